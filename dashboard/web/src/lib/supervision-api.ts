import { api } from './api-client';
import { locale } from './i18n';
import { ts } from './supervision-i18n';

/**
 * The supervision API's shapes as the web app uses them (the server's zod schemas in
 * @anlian/supervision are the contract; the bundle imports no server package).
 */
export type HazardStatus = 'found' | 'assigned' | 'rectifying' | 'submitted' | 'reviewed' | 'closed';
export type Severity = 'general' | 'major';
export type Grade = 'red' | 'orange' | 'yellow' | 'blue';

export interface Hazard {
  id: string;
  county: string;
  institution: string;
  category: string;
  severity: Severity;
  source: 'auto' | 'inspection' | 'manual';
  sourceRule: string | null;
  causeKey: string | null;
  itemRef: string | null;
  inspectionId: string | null;
  title: string;
  description: string;
  evidence: Record<string, unknown>;
  location: string | null;
  status: HazardStatus;
  owner: { contactId: string; name: string } | null;
  supervisor: string | null;
  deadlineAt: number | null;
  foundAt: number;
  foundBy: string;
  submittedAt: number | null;
  closedAt: number | null;
  causeClearedAt: number | null;
  overdue: boolean;
  escalationCount: number;
  generated: string | null;
}

export interface HazardTransition {
  seq: number;
  at: number;
  event: string;
  from: HazardStatus | null;
  to: HazardStatus;
  actor: string;
  role: string;
  note: string | null;
  detail: Record<string, unknown> | null;
}

export interface Rectification {
  id: string;
  hazardId: string;
  submittedAt: number;
  submittedBy: string;
  measures: string;
  photos: string[];
  review: 'accepted' | 'rejected' | null;
  reviewedAt: number | null;
  reviewedBy: string | null;
  reviewNote: string | null;
}

export interface RectificationRow extends Rectification {
  institution: string;
  hazardTitle: string;
  severity: Severity;
  status: HazardStatus;
}

export interface HazardDetail {
  hazard: Hazard;
  transitions: HazardTransition[];
  rectifications: Rectification[];
}

export interface HazardPage {
  hazards: Hazard[];
  total: number;
  nextCursor: string | null;
}

export interface FactorExplanation {
  id: string;
  label: { zh: string; en: string };
  unit: { zh: string; en: string };
  value: number | null;
  weight: number;
  saturation: number;
  contribution: number;
}

export interface GradeExplanation {
  institution: string;
  at: number;
  window: { from: number; to: number; days: number };
  factors: FactorExplanation[];
  score: number;
  thresholds: { red: number; orange: number; yellow: number };
  scoreGrade: Grade;
  floor: { rule: 'overdueMajorHazard' | 'openMajorHazard'; grade: Grade } | null;
  grade: Grade;
  inspectionsPerYear: number;
  dataGaps: string[];
}

export interface GradeRow {
  institution: string;
  name: string;
  grade: Grade | null;
  score: number | null;
  at: number | null;
  floor: GradeExplanation['floor'];
  inspectionsPerYear: number | null;
  lastInspectionAt: number | null;
  nextInspectionDueAt: number | null;
  topFactors: { id: string; label: string; contribution: number }[];
}

export interface GradesAnswer {
  policy: {
    windowDays: number;
    thresholds: { red: number; orange: number; yellow: number };
    inspectionsPerYear: Record<Grade, number>;
    drawWeights: Record<Grade, number>;
  };
  counts: Record<Grade, number>;
  institutions: GradeRow[];
}

export interface InstitutionGrade {
  current: { grade: Grade; score: number; at: number; reason: string; explanation: GradeExplanation } | null;
  history: { at: number; grade: Grade; score: number }[];
  inspectionsPerYear: Record<Grade, number>;
}

export interface ChecklistItem {
  id: string;
  category: string;
  text: string;
  textEn: string;
  severity: Severity;
  basis: string;
  hint: string;
}

export interface Checklist {
  id: string;
  name: { zh: string; en: string };
  standard: string;
  categories: { id: string; name: { zh: string; en: string } }[];
  items: ChecklistItem[];
  note: string;
}

export interface ItemResult {
  result: 'pass' | 'fail' | 'na';
  note: string;
  photos: string[];
}

export interface Inspection {
  id: string;
  institution: string;
  checklistId: string;
  kind: 'random' | 'routine' | 'special' | 'follow_up';
  inspector: string;
  status: 'draft' | 'submitted';
  results: Record<string, ItemResult>;
  findings: number;
  summary: string | null;
  startedAt: number;
  submittedAt: number | null;
}

export interface InspectionDraw {
  id: string;
  at: number;
  drawnBy: string;
  count: number;
  seed: string;
  weights: Record<Grade, number>;
  drawn: { institution: string; grade: Grade; weight: number; inspectors: string[] }[];
  pool: string[];
}

export interface CountyInput {
  id: string;
  institution: string;
  kind: 'complaint' | 'violation';
  at: number;
  note: string;
  recordedBy: string;
}

export interface Contact {
  id: string;
  name: string;
  role: string;
  phone: string;
}

export const GRADES: Grade[] = ['red', 'orange', 'yellow', 'blue'];
export const GRADE_COLOR: Record<Grade, string> = {
  red: '#ff3b3b',
  orange: '#ff8c1a',
  yellow: '#ffd60a',
  blue: '#3d8bfd',
};

export function gradeLabel(g: Grade | null): string {
  if (g === null) return ts('gradeNone');
  return ts(g === 'red' ? 'gradeRed' : g === 'orange' ? 'gradeOrange' : g === 'yellow' ? 'gradeYellow' : 'gradeBlue');
}

/** `3 天` / `5 小时`: how far a deadline is, for people (days once it is two days or more). */
export function spanText(ms: number): string {
  const h = Math.max(0, Math.floor(ms / 3_600_000));
  return h >= 48 ? ts('daysN', { n: Math.floor(h / 24) }) : ts('hoursN', { n: Math.max(1, h) });
}

/** The deadline in words: overdue by …, or … left. */
export function deadlineText(h: Pick<Hazard, 'deadlineAt' | 'overdue'>, now: number): string {
  if (h.deadlineAt === null) return '—';
  return h.deadlineAt <= now
    ? ts('overdueBy', { d: spanText(now - h.deadlineAt) })
    : ts('dueIn', { d: spanText(h.deadlineAt - now) });
}

/** A factor's value for people: percentages for rates, counts otherwise. */
export function factorValue(f: FactorExplanation): string {
  if (f.value === null) return ts('noData');
  const unit = locale.value === 'zh' ? f.unit.zh : f.unit.en;
  if (unit === '%') return `${Math.round(f.value * 1000) / 10}%`;
  if (f.id === 'drills_missed')
    return f.value > 0 ? (locale.value === 'zh' ? '是' : 'yes') : locale.value === 'zh' ? '否' : 'no';
  return `${f.value}${unit ? ` ${unit}` : ''}`;
}

export function hazardQuery(f: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v !== undefined && v !== '' && v !== false) q.set(k, String(v));
  return q.toString();
}

export const getHazards = (query: string) => api<HazardPage>('GET', `/api/hazards?${query}`);
export const getHazard = (id: string) => api<HazardDetail>('GET', `/api/hazards/${encodeURIComponent(id)}`);

/**
 * Downsizes a camera photo to ≤ 1600 px JPEG before upload: phone cameras make 4–12 MB images,
 * the county's records need a few hundred kB, and a rural 4G uplink is slow.
 */
export async function shrinkPhoto(file: File, maxSide = 1600): Promise<Blob> {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext('2d')?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('photo could not be encoded'))), 'image/jpeg', 0.82),
  );
}

/** Uploads a photo for an institution; returns its id. */
export async function uploadPhoto(institution: string, file: File): Promise<string> {
  const blob = await shrinkPhoto(file);
  const res = await fetch(`/api/photos?institution=${encodeURIComponent(institution)}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'image/jpeg' },
    body: blob,
  });
  const data = (await res.json()) as { id?: string; message?: string };
  if (!res.ok || !data.id) throw new Error(data.message ?? `upload failed (${res.status})`);
  return data.id;
}

export const photoUrl = (id: string) => `/api/photos/${encodeURIComponent(id)}`;
