import { locale } from './i18n';

/** Every time on screen is the county's wall-clock time (Asia/Shanghai), whatever the browser's zone. */
export const TIME_ZONE = 'Asia/Shanghai';

const cache = new Map<string, Intl.DateTimeFormat>();
function fmt(kind: 'time' | 'datetime' | 'date'): Intl.DateTimeFormat {
  const key = `${locale.value}:${kind}`;
  let f = cache.get(key);
  if (!f) {
    const opts: Intl.DateTimeFormatOptions =
      kind === 'time'
        ? { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }
        : kind === 'date'
          ? { year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short' }
          : {
              month: '2-digit',
              day: '2-digit',
              hour: '2-digit',
              minute: '2-digit',
              second: '2-digit',
              hourCycle: 'h23',
            };
    f = new Intl.DateTimeFormat(locale.value === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: TIME_ZONE, ...opts });
    cache.set(key, f);
  }
  return f;
}

export const formatTime = (ms: number): string => fmt('time').format(ms);
export const formatDateTime = (ms: number): string => fmt('datetime').format(ms);
export const formatDate = (ms: number): string => fmt('date').format(ms);

export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  const s = Math.round(ms / 1000);
  const zh = locale.value === 'zh';
  if (s < 60) return zh ? `${s}秒` : `${s} s`;
  const m = Math.floor(s / 60);
  const r = s % 60;
  return zh ? `${m}分${r}秒` : `${m} min ${r} s`;
}
