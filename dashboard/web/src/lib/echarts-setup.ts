import { BarChart, EffectScatterChart, LineChart, MapChart, ScatterChart } from 'echarts/charts';
import { GeoComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

// Only what the views draw, so the bundle stays small enough for a phone.
echarts.use([
  MapChart,
  ScatterChart,
  EffectScatterChart,
  LineChart,
  BarChart,
  GeoComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  CanvasRenderer,
]);

export { echarts };

export const STATUS_COLOR = {
  alarm: '#ff3b3b',
  warning: '#ffb300',
  offline: '#7d8aa5',
  normal: '#20d39a',
} as const;

export const RISK_COLOR = { red: '#ff3b3b', orange: '#ff8c1a', yellow: '#ffd60a', blue: '#3d8bfd' } as const;
