import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import { BrokerConnection, type OrgDisabledEvent, SUBJECTS } from '#common';
import { eventJson, guarded } from './unexpected.js';

/** Long enough to cover a credential check in flight when the event came; short, so a re-enabled org is soon back. */
const REMEMBER_MS = 5_000;

/**
 * Orgs disabled moments ago. The hubs close an org's open sockets when `orgs.disabled` arrives,
 * but a socket whose credential the pairing app approved just before the disable, and whose
 * answer is handled just after the event, would otherwise slip in: authentication asks here
 * before it registers anything.
 */
@Injectable()
export class DisabledOrgs implements OnModuleInit, OnModuleDestroy {
  private readonly disabledAt = new Map<string, number>();
  private subscription?: Subscription;

  constructor(private readonly broker: BrokerConnection) {}

  onModuleInit(): void {
    this.subscription = this.broker.nc.subscribe(SUBJECTS.orgs.disabled, {
      callback: guarded('org disabled event', (_, msg) => {
        const event = eventJson<OrgDisabledEvent>(msg) as OrgDisabledEvent;
        if (typeof event?.org_id === 'string') this.remember(event.org_id);
      }),
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  remember(orgId: string, now = Date.now()): void {
    for (const [id, at] of this.disabledAt) if (now - at >= REMEMBER_MS) this.disabledAt.delete(id);
    this.disabledAt.set(orgId, now);
  }

  justDisabled(orgId: string, now = Date.now()): boolean {
    const at = this.disabledAt.get(orgId);
    return at !== undefined && now - at < REMEMBER_MS;
  }
}
