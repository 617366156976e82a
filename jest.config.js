// The test pyramid (README "Test it"): three Jest projects, one per tier.
//   unit    `*.spec.ts`         no build, no services; seconds
//   medium  `*.medium-spec.ts`  Nest testing modules in process on the real PostgreSQL and NATS,
//                               each file in a database cloned from one migrated template
//   e2e     `*.e2e-spec.ts`     the built apps spawned as processes, spoken to over HTTP/WebSocket
// `npm run test:<tier>` runs one tier; `npx jest <file>` (under node --experimental-vm-modules)
// runs one file in whichever tier it belongs to.
//
// Nest 12 ships ES modules only, so Jest runs in ESM mode: ts-jest with useESM,
// `.js` stripped from relative imports, and node --experimental-vm-modules. tsconfig.json sets
// isolatedModules, so ts-jest only transpiles each file: type checking is `npm run typecheck`
// (a step of `npm test`), once for the whole tree.
const shared = {
  rootDir: '.',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^#common$': '<rootDir>/libs/common/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
  },
};

export default {
  testTimeout: 60000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/apps/*/src/**/*.spec.ts', '<rootDir>/libs/*/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
    },
    {
      ...shared,
      displayName: 'medium',
      testMatch: ['<rootDir>/apps/*/src/**/*.medium-spec.ts', '<rootDir>/libs/*/src/**/*.medium-spec.ts'],
      // One migrated template database per run; each file clones it (test/support/medium.ts).
      globalSetup: '<rootDir>/test/support/global-medium-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-medium-teardown.ts',
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
    },
  ],
};
