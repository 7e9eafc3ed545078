import { shallowRef } from 'vue';

export interface ConfirmRequest {
  title: string;
  message: string;
  confirmLabel: string;
  /** Red confirm button: the action cannot be undone or cuts something off. */
  danger?: boolean;
}

interface Pending extends ConfirmRequest {
  resolve: (ok: boolean) => void;
}

/** The question on screen, if any; `ConfirmDialog.vue` shows it. */
export const pendingConfirm = shallowRef<Pending | null>(null);

/** Asks before a destructive action; resolves true on confirm, false on cancel (or a newer question). */
export function confirmAction(request: ConfirmRequest): Promise<boolean> {
  pendingConfirm.value?.resolve(false);
  return new Promise((resolve) => {
    pendingConfirm.value = { ...request, resolve };
  });
}

export function answerConfirm(ok: boolean): void {
  const p = pendingConfirm.value;
  pendingConfirm.value = null;
  p?.resolve(ok);
}
