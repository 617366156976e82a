/** A dependency an app needs to serve: `/health/ready` and the NATS health subject ask each one. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

export async function runChecks(checks: ReadinessCheck[]): Promise<{ ready: boolean; checks: Record<string, 'up' | 'down'> }> {
  const results = await Promise.all(
    checks.map(async (c) => {
      const up = await Promise.race([
        c.check().catch(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000).unref()),
      ]);
      return [c.name, up ? 'up' : 'down'] as const;
    }),
  );
  return { ready: results.every(([, s]) => s === 'up'), checks: Object.fromEntries(results) };
}
