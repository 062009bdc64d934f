import type { NextConfig } from 'next';

const config: NextConfig = {
  // An app of its own inside Latch's repository: its root is here, not at the repository's lockfile.
  turbopack: { root: import.meta.dirname },
};

export default config;
