// The gateway's public surface; filled in by issue 5.
export {};
