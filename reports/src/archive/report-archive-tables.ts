import type { EpochMs } from '@anlian/store';

export interface ReportArchiveTable {
  id: string;
  county_id: string;
  institution_id: string | null;
  period_key: string;
  period_from: EpochMs;
  period_to: EpochMs;
  period_label: string;
  source_key: string;
  lang: string;
  generated_at: EpochMs;
  generated_by: string;
  schedule_key: string | null;
  xlsx_key: string;
  xlsx_bytes: number;
  pdf_key: string;
  pdf_bytes: number;
  summary_json: string;
}

export interface ReportLeasesTable {
  name: string;
  holder: string;
  expires_at: EpochMs;
}

export interface ReportArchiveDatabase {
  report_archive: ReportArchiveTable;
  report_leases: ReportLeasesTable;
}
