import type { Alert } from '../../../src/alerts/alerts-port';
import { t } from './i18n';
import { formatTime } from './time-format';

/**
 * A new fire alarm on the manager's phone, from the live feed alone (no push channel needed): a
 * system notification and vibration. GB 26875.1 asks for the alarm within seconds; a manager with
 * the app in another tab, or the screen locked on a phone that keeps the page alive, still hears
 * of it. Through the service worker where there is one (Android Chrome allows no page-made
 * notifications), else the page's own `Notification`.
 */

/** Stop-start pattern of a fire alarm: long pulses, unlike a chat message's short buzz. */
export const FIRE_VIBRATION = [600, 200, 600, 200, 1200];

export type NoticePermission = NotificationPermission | 'unsupported';

export function noticePermission(): NoticePermission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/** Asks once, from a tap (browsers ignore requests without a user gesture). */
export async function askNoticePermission(): Promise<NoticePermission> {
  if (typeof Notification === 'undefined') return 'unsupported';
  return Notification.requestPermission();
}

export function vibrateFire(): void {
  // Not every browser has it (iOS Safari); a phone on silent still vibrates.
  if (typeof navigator.vibrate === 'function') navigator.vibrate(FIRE_VIBRATION);
}

/** Shows the system notification; false when the browser has none or it is not allowed. */
export async function showFireNotice(alert: Alert, institutionName: string): Promise<boolean> {
  if (noticePermission() !== 'granted') return false;
  const title = `${alert.drill ? `[${t('drill')}] ` : ''}${t('fireBanner')} · ${institutionName}`;
  const options: NotificationOptions & { renotify?: boolean; vibrate?: number[] } = {
    body: `${alert.reason}\n${formatTime(alert.openedAt)} · ${t('fireBannerHint')}`,
    // One notification per alert: a repeat replaces it instead of piling up.
    tag: `alert-${alert.id}`,
    renotify: true,
    requireInteraction: true,
    icon: '/icon.svg',
    vibrate: FIRE_VIBRATION,
    data: { url: '/#/manager', alert: alert.id },
  };
  const registration = 'serviceWorker' in navigator ? await navigator.serviceWorker.getRegistration() : undefined;
  if (registration?.active) {
    await registration.showNotification(title, options);
    return true;
  }
  try {
    new Notification(title, options);
    return true;
  } catch {
    // Android Chrome without a worker: "Illegal constructor". The sound and vibration still go.
    return false;
  }
}
