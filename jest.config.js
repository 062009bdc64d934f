/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The image and browser suites build things (the Dockerfile's steps, a Next.js app): they run
  // through their own scripts, npm run test:image and npm run test:browser, which CI runs too.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/image/', '<rootDir>/test/browser/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    // With isolatedModules in tsconfig.json ts-jest only transpiles: type errors are the typecheck step's job.
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 30_000,
};
