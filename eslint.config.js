// Lint: typescript-eslint's recommended rules on every TypeScript file; `npm run lint` runs it
// with --max-warnings 0 beside `prettier --check` (style is Prettier's, not ESLint's).
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'apps/*/dist/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['warn', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Validation refuses NUL and other control characters by matching them: that is the point.
      'no-control-regex': 'off',
    },
  },
  {
    // Tests read JSON answers whose shape they then assert field by field.
    files: ['test/**/*.ts', '**/*.spec.ts', '**/*-spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
