import { computed, ref } from 'vue';

/**
 * Hash routes (`#/wall`, `#/institution/yy-x`, `#/manager`, `#/alerts`, `#/institutions`, `#/reports`, `#/admin`, `#/login`,
 * `#/hazards`, `#/grades`, `#/file/yy-x`, `#/m/hazards`, `#/m/inspect`): the server serves
 * one index.html and needs no fallback routes; a kiosk bookmark is a plain URL.
 */
const hash = ref(window.location.hash);
window.addEventListener('hashchange', () => {
  hash.value = window.location.hash;
});

export const route = computed(() => {
  const raw = hash.value.replace(/^#/, '') || '/';
  const [path = '/', query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean);
  return {
    name: parts[0] ?? '',
    param: parts[1] ? decodeURIComponent(parts[1]) : undefined,
    /** Everything after the name, decoded (`#/m/hazard/hz_1` → ['hazard', 'hz_1']). */
    rest: parts.slice(1).map((p) => decodeURIComponent(p)),
    query: new URLSearchParams(query),
  };
});

export function go(path: string): void {
  window.location.hash = path;
}
