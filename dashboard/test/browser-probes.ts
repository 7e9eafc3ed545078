import type { Page } from 'playwright-core';

/**
 * An init script (runs before the app) that records what the page asks of the device, without
 * changing what it does: every alarm tone (an oscillator connected to its gain, with that gain's
 * value) and every vibration pattern (`navigator.vibrate` is stubbed: a desktop chromium has no
 * motor). Page-made notifications are recorded too; the service worker's are read with
 * `shownNotifications`.
 */
export const DEVICE_PROBES = `
  window.__tones = [];
  window.__vibrations = [];
  window.__notices = [];
  const connect = OscillatorNode.prototype.connect;
  OscillatorNode.prototype.connect = function (dest, ...rest) {
    window.__tones.push({ frequency: this.frequency.value, gain: dest && dest.gain ? dest.gain.value : null });
    return connect.call(this, dest, ...rest);
  };
  Object.defineProperty(navigator, 'vibrate', {
    configurable: true,
    value: (pattern) => { window.__vibrations.push(pattern); return true; },
  });
  if (typeof Notification !== 'undefined') {
    const Native = Notification;
    window.Notification = class extends Native {
      constructor(title, options) { super(title, options); window.__notices.push({ title, body: options && options.body }); }
    };
  }
`;

export interface Tone {
  frequency: number;
  gain: number | null;
}

// Strings, not functions: the tests' type-check has no DOM library.
export const tones = (page: Page): Promise<Tone[]> => page.evaluate('window.__tones') as Promise<Tone[]>;
export const vibrations = (page: Page): Promise<number[][]> =>
  page.evaluate('window.__vibrations') as Promise<number[][]>;

/** The system notifications the page has shown, through its service worker or by itself. */
export async function shownNotifications(page: Page): Promise<ShownNotification[]> {
  return (await page.evaluate(`(async () => {
    const reg = 'serviceWorker' in navigator ? await navigator.serviceWorker.getRegistration() : undefined;
    const shown = reg ? await reg.getNotifications() : [];
    const viaWorker = shown.map((n) => ({ via: 'worker', title: n.title, body: n.body }));
    return [...viaWorker, ...window.__notices.map((n) => ({ via: 'page', ...n }))];
  })()`)) as ShownNotification[];
}

export interface ShownNotification {
  via: 'worker' | 'page';
  title: string;
  body: string;
}
