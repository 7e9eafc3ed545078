import { z } from 'zod';
import { HazardSeverity } from '../hazards/hazard.js';

const Localized = z.object({ zh: z.string().trim().min(1).max(200), en: z.string().trim().max(200).default('') });

export const ChecklistId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and -');

export const ChecklistItem = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/),
  /** A category id of this checklist. */
  category: z.string().min(1).max(64),
  /** What the inspector checks, in Chinese (the county's working language). */
  text: z.string().trim().min(1).max(500),
  /** The English text, for the English screen. */
  textEn: z.string().trim().max(500).default(''),
  /** What a failed item is filed as. */
  severity: HazardSeverity,
  /** The article of the standard the item rests on (`第四条（一）`, `GB 38600-2019 6.1`). */
  basis: z.string().trim().max(120).default(''),
  /** How to check it on site. */
  hint: z.string().trim().max(500).default(''),
});
export type ChecklistItem = z.infer<typeof ChecklistItem>;

/**
 * An inspection checklist, as data the county edits (issue 16): the 22 situations of the
 * Ministry of Civil Affairs' 2023 standard and GB 38600-2019's nine prevention areas ship as the
 * defaults (`builtin-checklists.ts`).
 */
export const Checklist = z
  .object({
    id: ChecklistId,
    name: Localized,
    /** The standard it follows, as cited. */
    standard: z.string().trim().max(200),
    categories: z.array(z.object({ id: z.string().min(1).max(64), name: Localized })).min(1),
    items: z.array(ChecklistItem).min(1).max(500),
    note: z.string().trim().max(2000).default(''),
  })
  .superRefine((c, ctx) => {
    const categories = new Set(c.categories.map((x) => x.id));
    const seen = new Set<string>();
    c.items.forEach((item, i) => {
      if (!categories.has(item.category)) {
        ctx.addIssue({
          code: 'custom',
          path: ['items', i, 'category'],
          message: `no category ${item.category} in this checklist`,
        });
      }
      if (seen.has(item.id))
        ctx.addIssue({ code: 'custom', path: ['items', i, 'id'], message: `item ${item.id} twice` });
      seen.add(item.id);
    });
  });
export type Checklist = z.infer<typeof Checklist>;
export type ChecklistInput = z.input<typeof Checklist>;

/** A checklist as stored for a county: the document, its version and who changed it last. */
export interface StoredChecklist {
  checklist: Checklist;
  version: number;
  /** True while the county has not changed the shipped default. */
  builtin: boolean;
  updatedAt: number | null;
  updatedBy: string | null;
}
