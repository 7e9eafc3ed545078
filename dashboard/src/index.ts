// The dashboard's public surface; filled in by issue 6.
export {};
