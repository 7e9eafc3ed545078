import type { Delta, InstitutionSnapshot } from '../../../src/live/live-wire';
import { notePushedSnapshot } from './alert-snapshots';
import { upsertAlert } from './county-state';

/** Applies one institution-room delta to the snapshot held by a view. */
export function applyInstitutionDelta(s: InstitutionSnapshot, d: Delta): void {
  switch (d.type) {
    case 'alert': {
      upsertAlert(s.alerts, d.data.alert);
      return;
    }
    case 'institution':
      s.live = d.data;
      s.risk = d.data.risk;
      return;
    case 'devices':
      for (const dev of d.data) {
        const i = s.devices.findIndex((x) => x.key === dev.key);
        if (i >= 0) s.devices.splice(i, 1, dev);
      }
      return;
    case 'gateway': {
      const i = s.gateways.findIndex((g) => g.id === d.data.id);
      if (i >= 0) s.gateways.splice(i, 1, d.data);
      return;
    }
    case 'snapshot':
      // Not part of the room's state: kept beside it for the alert cards (视频复核).
      notePushedSnapshot(d.data);
      return;
    default:
      return;
  }
}
