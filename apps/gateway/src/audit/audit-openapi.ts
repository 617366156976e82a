/* What the OpenAPI document says about GET /api/audit/commands (docs/api.md, "Remote-command audit"). */

const nullableString = { type: ['string', 'null'] };
const nullableTime = { type: ['string', 'null'], format: 'date-time' };

export const AUDIT_ENTRY_SCHEMA = {
  type: 'object',
  required: ['id', 'org_id', 'key_id', 'source_id', 'command_id', 'command', 'started_at', 'finished_at', 'exit_code'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    org_id: { type: 'string' },
    key_id: { type: 'string', format: 'uuid', description: 'The API key that ran the command' },
    source_id: { type: 'string' },
    command_id: { type: 'string' },
    command: { type: 'string', description: 'At most 8,192 characters' },
    started_at: { type: 'string', format: 'date-time' },
    finished_at: nullableTime,
    exit_code: { type: ['integer', 'null'] },
  },
};

export const AUDIT_LIST_SCHEMA = {
  type: 'object',
  required: ['commands', 'truncated', 'next_cursor'],
  properties: {
    commands: { type: 'array', items: AUDIT_ENTRY_SCHEMA },
    truncated: {
      type: 'boolean',
      description: 'true when fewer entries than limit came back because the answer stops before 768 KiB of JSON',
    },
    next_cursor: {
      ...nullableString,
      description: 'Pass as ?cursor= for the next page (older entries); null when there are no older entries',
    },
  },
};
