/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type checking is `tsc -p tsconfig.json` in `npm test`; jest only transpiles.
    '^.+\\.ts$': ['ts-jest', { diagnostics: false, tsconfig: { isolatedModules: true } }],
  },
  // The consumer app imports the package by name; in this repo that is lib/.
  moduleNameMapper: { '^airgap-go-constructs$': '<rootDir>/lib' },
  setupFilesAfterEnv: ['<rootDir>/test/support/setup.ts'],
  testTimeout: 120000,
};
