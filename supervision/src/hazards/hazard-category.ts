/**
 * Categories hazards are filed under: the five of the Ministry of Civil Affairs' 2023 standard
 * (养老机构重大事故隐患判定标准, art. 3), GB 38600-2019's service-safety areas, and the ones the
 * platform's automatic sources file under. Labels only: a county's checklists may add their own
 * category ids, which then show as written.
 */
export const HAZARD_CATEGORIES: Readonly<Record<string, { zh: string; en: string }>> = Object.freeze({
  facilities: { zh: '重要设施设备', en: 'Key facilities and equipment' },
  qualifications: { zh: '资格资质', en: 'Licences and qualifications' },
  daily_management: { zh: '日常管理', en: 'Daily management' },
  service_conduct: { zh: '违法违规提供服务', en: 'Unlawful service provision' },
  other_major: { zh: '其他重大事故隐患', en: 'Other major hazards' },
  service_safety: { zh: '服务安全风险防范', en: 'Service safety (GB 38600)' },
  fire_facilities: { zh: '消防设施器材', en: 'Fire protection equipment' },
  video: { zh: '视频监控', en: 'Video surveillance' },
  monitoring: { zh: '监测联网', en: 'Monitoring link' },
  emergency: { zh: '应急管理', en: 'Emergency preparedness' },
});

export function categoryLabel(id: string): { zh: string; en: string } {
  return HAZARD_CATEGORIES[id] ?? { zh: id, en: id };
}
