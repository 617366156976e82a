import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { SessionStatus } from '#common';

@Entity('sessions')
export class SessionEntity {
  @PrimaryColumn('text', { name: 'org_id' })
  orgId: string;

  @PrimaryColumn('text')
  id: string;

  @Column('text', { name: 'source_id' })
  sourceId: string;

  @Column('text')
  name: string;

  @Column('text')
  status: SessionStatus;

  @Column('jsonb')
  tags: Record<string, unknown>;

  @Column('jsonb')
  metadata: Record<string, unknown>;

  @Column('timestamptz', { name: 'started_at' })
  startedAt: Date;

  @Column('timestamptz', { name: 'ended_at', nullable: true })
  endedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
