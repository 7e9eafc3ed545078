import type { AlertingService } from '@anlian/alerting';
import type { CountySimulator, LoadedScenario } from '@anlian/device-simulators';

/**
 * `anlian up --demo --scenario NAME` plays a drill: once the simulated gateways are connected,
 * the scenario is registered with alerting as a drill of the institutions it names (alerting
 * tells their gateways, which answer), and what the scenario produces carries its id — its alarms
 * are tagged, pushed with [演练] and scored; anything else stays real (issue 13).
 */
export function registerScenarioDrill(
  service: AlertingService,
  scenario: LoadedScenario,
  speed: number,
): (sim: CountySimulator) => Promise<void> {
  return async (sim) => {
    const gen = sim.generator;
    const simMs = gen ? gen.scenarioEndMs + scenario.settle - gen.startMs : 0;
    const drill = await service.createDrill(
      {
        name: `${scenario.title.zh}（模拟演练）`,
        institutions: [...new Set(sim.faults.flatMap((f) => f.targets.map((t) => t.institution)))],
        endsAt: Date.now() + Math.ceil(simMs / speed) + 10 * 60_000,
      },
      'anlian up',
    );
    sim.setDrill(drill.id);
  };
}
