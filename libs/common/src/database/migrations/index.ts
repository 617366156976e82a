import { InitialSchema1732400000000 } from './1732400000000-initial-schema.js';
import { SourcesAndPairing1732500000000 } from './1732500000000-sources-and-pairing.js';
import { CommandAudit1732600000000 } from './1732600000000-command-audit.js';
import { PointsTimeBrin1732700000000 } from './1732700000000-points-time-brin.js';
import { TenancyAndPairingSecret1732810000000 } from './1732810000000-tenancy-and-pairing-secret.js';
import { StorageV21732900000000 } from './1732900000000-storage-v2.js';
import { Alerts1733000000000 } from './1733000000000-alerts.js';

/** Every migration, oldest first. */
export const MIGRATIONS = [
  InitialSchema1732400000000,
  SourcesAndPairing1732500000000,
  CommandAudit1732600000000,
  PointsTimeBrin1732700000000,
  TenancyAndPairingSecret1732810000000,
  StorageV21732900000000,
  Alerts1733000000000,
];
