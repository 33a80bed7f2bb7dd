/** Unit tests: ts-jest on jsdom. The request helper is mocked in every test, so no JupyterLab ESM is loaded. */
module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/src'],
  testRegex: 'src/__tests__/.*\\.spec\\.tsx?$',
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  },
  moduleNameMapper: {
    '\\.(css|svg)$': '<rootDir>/src/__tests__/support/fileMock.js'
  },
  testPathIgnorePatterns: ['/node_modules/', '/lib/', '/ui-tests/']
};
