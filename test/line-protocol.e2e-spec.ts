import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InfluxDB, Point } from '@influxdata/influxdb-client';
import { Platform } from './support/platform.js';

// InfluxDB's write APIs on the gateway: an unmodified InfluxDB client writes, the points come
// back through /api/query with their types; InfluxDB 1 credentials; errors in InfluxDB's shapes;
// a body with bad lines written as InfluxDB does; the same limits as /api/ingest.
let platform: Platform;

beforeAll(async () => {
  platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway'] });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

interface Queried {
  timestamp: number;
  value: unknown;
  tags?: Record<string, unknown>;
  session_id?: string;
}

async function points(sourceId: string, metric: string): Promise<Queried[]> {
  const response = await platform.api(`/api/query?source_id=${encodeURIComponent(sourceId)}&metric=${encodeURIComponent(metric)}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { points: Queried[] }).points;
}

function write(path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${platform.gateway}${path}`, {
    method: 'POST',
    body,
    headers: { authorization: `Token ${platform.adminKey}`, ...headers },
  });
}

describe('InfluxDB 2 API: POST /api/v2/write', () => {
  it('takes an unmodified @influxdata/influxdb-client: every field a point, types kept', async () => {
    const client = new InfluxDB({ url: platform.gateway, token: platform.adminKey });
    const api = client.getWriteApi('any-org', 'any-bucket', 'ns');
    api.writePoint(
      new Point('weather')
        .tag('host', 'lp-client')
        .tag('room', 'lab')
        .floatField('temp', 21.5)
        .intField('count', 42)
        .booleanField('ok', true)
        .stringField('state', 'open "door"')
        .timestamp(new Date(1_700_000_000_123)),
    );
    api.writePoint(new Point('power').tag('host', 'lp-client').floatField('value', -3.25).timestamp('1700000001000000000'));
    await api.close();
    await platform.drained();
    expect(await points('lp-client', 'weather.temp')).toEqual([{ timestamp: 1_700_000_000.123, value: 21.5, tags: { room: 'lab' } }]);
    expect(await points('lp-client', 'weather.count')).toEqual([{ timestamp: 1_700_000_000.123, value: 42, tags: { room: 'lab' } }]);
    expect(await points('lp-client', 'weather.ok')).toEqual([{ timestamp: 1_700_000_000.123, value: true, tags: { room: 'lab' } }]);
    expect(await points('lp-client', 'weather.state')).toEqual([
      { timestamp: 1_700_000_000.123, value: 'open "door"', tags: { room: 'lab' } },
    ]);
    // A field named `value` is the measurement itself.
    expect(await points('lp-client', 'power')).toEqual([{ timestamp: 1_700_000_001, value: -3.25 }]);
  });

  it('answers 204, takes gzip, each precision, the source tag asked for, and a bucket as the session', async () => {
    const lines = 'rig,device=lp-ms,site=a temp=1 1700000002000\nrig,device=lp-ms,site=a temp=2 1700000003000';
    const gzipped = gzipSync(Buffer.from(lines));
    const response = await write('/api/v2/write?org=o&bucket=run-lp-1&precision=ms&source_tag=device&bucket_is_session=true', gzipped, {
      'content-encoding': 'gzip',
    });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    for (const [precision, stamp] of [
      ['s', '1700000010'],
      ['us', '1700000011000000'],
      ['ns', '1700000012000000001'],
    ]) {
      expect((await write(`/api/v2/write?bucket=b&precision=${precision}`, `prec,host=lp-prec value=1 ${stamp}`)).status).toBe(204);
    }
    await platform.drained();
    expect(await points('lp-ms', 'rig.temp')).toEqual([
      { timestamp: 1_700_000_002, value: 1, tags: { site: 'a' }, session_id: 'run-lp-1' },
      { timestamp: 1_700_000_003, value: 2, tags: { site: 'a' }, session_id: 'run-lp-1' },
    ]);
    expect((await platform.api('/api/sessions/run-lp-1')).status).toBe(200);
    expect((await points('lp-prec', 'prec')).map((p) => p.timestamp)).toEqual([1_700_000_010, 1_700_000_011, 1_700_000_012]);
  });

  it('writes the good lines of a body with bad ones and answers 400 naming the first bad line, as InfluxDB does', async () => {
    const body = [
      'good,host=lp-partial value=1 1700000020000000000',
      'bad,host=lp-partial value=',
      'good,host=lp-partial value=2 1700000021000000000',
      'no-fields,host=lp-partial',
    ].join('\n');
    const response = await write('/api/v2/write?bucket=b', body);
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { code: string; message: string; line: number };
    expect(answer.code).toBe('invalid');
    expect(answer.line).toBe(2);
    expect(answer.message).toMatch(/^partial write: 2 points written, 2 lines refused; line 2: .+; line 4: /);
    await platform.drained();
    expect((await points('lp-partial', 'good')).map((p) => p.value)).toEqual([1, 2]);
  });

  it('stores a re-sent body once (timestamps given), and a re-sent Idempotency-Key once (no timestamps)', async () => {
    const body = 'again,host=lp-again value=1 1700000090\nagain,host=lp-again value=2 1700000091';
    for (let i = 0; i < 3; i++) expect((await write('/api/v2/write?bucket=b&precision=s', body)).status).toBe(204);
    for (let i = 0; i < 2; i++)
      expect((await write('/api/v2/write?bucket=b', 'stamped,host=lp-again value=7', { 'idempotency-key': 'lp-retry-1' })).status).toBe(
        204,
      );
    await platform.drained();
    expect((await points('lp-again', 'again')).map((p) => p.value)).toEqual([1, 2]);
    expect(await points('lp-again', 'stamped')).toHaveLength(1);
  });

  it('refuses a body with no good line as a whole, in InfluxDB 2 shape', async () => {
    const response = await write('/api/v2/write?bucket=b', 'just garbage\nmore garbage');
    expect(response.status).toBe(400);
    const answer = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(answer).sort()).toEqual(['code', 'message']);
    expect(answer.code).toBe('invalid');
    expect(answer.message).toMatch(/nothing written; line 1: /);
  });

  it('refuses a point Plexus cannot store (a source the tag cannot name) on its line only', async () => {
    const response = await write('/api/v2/write?bucket=b', '°C,entity_id=x value=21.5\nok,host=lp-src value=1');
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { message: string; line: number };
    expect(answer.line).toBe(1);
    expect(answer.message).toMatch(/source_id/);
    await platform.drained();
    expect(await points('lp-src', 'ok')).toHaveLength(1);
    // With source_tag, the same line is fine.
    expect(
      (await write('/api/v2/write?bucket=b&source_tag=entity_id', '°C,entity_id=living_room value=21.5 1700000030000000000')).status,
    ).toBe(204);
    await platform.drained();
    expect(await points('living_room', '°C')).toEqual([{ timestamp: 1_700_000_030, value: 21.5 }]);
  });

  it('answers refusals made before the handler in InfluxDB 2 shape too', async () => {
    const unauthorized = await write('/api/v2/write?bucket=b', 'm value=1', { authorization: 'Token plx_nope' });
    expect(unauthorized.status).toBe(401);
    expect(Object.keys((await unauthorized.json()) as object).sort()).toEqual(['code', 'message']);
    const readOnly = await platform.createKey(['read']);
    const forbidden = await write('/api/v2/write?bucket=b', 'm value=1', { authorization: `Token ${readOnly}` });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { code: string }).code).toBe('forbidden');
    const badPrecision = await write('/api/v2/write?bucket=b&precision=h', 'm,host=x value=1');
    expect(badPrecision.status).toBe(400);
    expect((await badPrecision.json()) as object).toEqual({ code: 'invalid', message: 'precision must be ns, us, ms or s' });
  });

  it('keeps /api/ingest limits: more than 10,000 points is 413', async () => {
    const fields = Array.from({ length: 11 }, (_, i) => `f${i}=1`).join(',');
    const body = Array.from({ length: 1000 }, (_, i) => `big,host=lp-big ${fields} ${1_700_000_000 + i}`).join('\n');
    const response = await write('/api/v2/write?bucket=b&precision=s', body);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { code: string; message: string }).message).toMatch(/11000 points/);
  });
});

describe('Telegraf', () => {
  it('takes a batch as Telegraf writes it (influxdb output, InfluxDB 1 API) and keeps every type', async () => {
    // cpu, mem, disk, system and net inputs of one interval, one host, nanosecond times.
    const t = '1700000100000000000';
    const batch = [
      `cpu,cpu=cpu-total,host=telegraf-pi usage_user=1.2,usage_system=0.8,usage_idle=97.5,usage_iowait=0.1 ${t}`,
      `mem,host=telegraf-pi total=4124200960i,available=2412345344i,used_percent=41.5 ${t}`,
      `disk,device=mmcblk0p2,fstype=ext4,host=telegraf-pi,mode=rw,path=/ free=21474836480i,used_percent=28.4,inodes_used=310245i ${t}`,
      `system,host=telegraf-pi load1=0.42,n_cpus=4i,uptime=86400u ${t}`,
      `system,host=telegraf-pi uptime_format="1 day,  0:00" ${t}`,
      `net,host=telegraf-pi,interface=eth0 bytes_recv=123456789i,err_in=0i ${t}`,
    ].join('\n');
    const response = await write('/write?db=telegraf&precision=ns&rp=autogen&consistency=any', `${batch}\n`, {
      authorization: `Basic ${Buffer.from(`telegraf:${platform.adminKey}`).toString('base64')}`,
      'user-agent': 'Telegraf/1.30.0 Go/1.22.0',
    });
    expect(response.status).toBe(204);
    await platform.drained();
    expect(await points('telegraf-pi', 'cpu.usage_idle')).toEqual([{ timestamp: 1_700_000_100, value: 97.5, tags: { cpu: 'cpu-total' } }]);
    expect(await points('telegraf-pi', 'mem.total')).toEqual([{ timestamp: 1_700_000_100, value: 4124200960 }]);
    expect(await points('telegraf-pi', 'disk.used_percent')).toEqual([
      { timestamp: 1_700_000_100, value: 28.4, tags: { device: 'mmcblk0p2', fstype: 'ext4', mode: 'rw', path: '/' } },
    ]);
    expect(await points('telegraf-pi', 'system.uptime')).toEqual([{ timestamp: 1_700_000_100, value: 86400 }]);
    expect(await points('telegraf-pi', 'system.uptime_format')).toEqual([{ timestamp: 1_700_000_100, value: '1 day,  0:00' }]);
    expect(await points('telegraf-pi', 'net.err_in')).toEqual([{ timestamp: 1_700_000_100, value: 0, tags: { interface: 'eth0' } }]);
  });
});

describe('InfluxDB 1 API: POST /write', () => {
  it('takes the key as p=, as the password of Basic auth and as a Token header; answers 204', async () => {
    const basic = `Basic ${Buffer.from(`telegraf:${platform.adminKey}`).toString('base64')}`;
    expect(
      (
        await fetch(`${platform.gateway}/write?db=telegraf&p=${platform.adminKey}&precision=s`, {
          method: 'POST',
          body: 'v1,host=lp-v1 value=1 1700000040',
        })
      ).status,
    ).toBe(204);
    expect((await write('/write?db=telegraf&precision=s', 'v1,host=lp-v1 value=2 1700000041', { authorization: basic })).status).toBe(204);
    expect((await write('/write?db=telegraf&precision=s', 'v1,host=lp-v1 value=3 1700000042')).status).toBe(204);
    // curl's default Content-Type, as InfluxDB takes it.
    expect(
      (
        await write('/write?db=telegraf&precision=n', 'v1,host=lp-v1 value=4 1700000043000000000', {
          'content-type': 'application/x-www-form-urlencoded',
        })
      ).status,
    ).toBe(204);
    await platform.drained();
    expect((await points('lp-v1', 'v1')).map((p) => p.value)).toEqual([1, 2, 3, 4]);
  });

  it('answers in InfluxDB 1 shape: {"error"} for refusals and partial writes; db as the session when asked', async () => {
    const missing = await fetch(`${platform.gateway}/write?db=x`, { method: 'POST', body: 'm value=1' });
    expect(missing.status).toBe(401);
    expect(Object.keys((await missing.json()) as object)).toEqual(['error']);
    const wrongPassword = await write('/write?db=x', 'm value=1', {
      authorization: `Basic ${Buffer.from('u:plx_wrong').toString('base64')}`,
    });
    expect(wrongPassword.status).toBe(401);
    const partial = await write(
      '/write?db=run-v1&db_is_session=true&precision=s',
      'v1s,host=lp-v1s value=1 1700000050\nv1s,host=lp-v1s value=x',
    );
    expect(partial.status).toBe(400);
    expect((await partial.json()) as object).toEqual({
      error: expect.stringMatching(/^partial write: 1 points written, 1 lines refused; line 2: /),
    });
    await platform.drained();
    expect(await points('lp-v1s', 'v1s')).toEqual([{ timestamp: 1_700_000_050, value: 1, session_id: 'run-v1' }]);
  });

  it('does not take p= or Basic auth on other routes', async () => {
    const basic = `Basic ${Buffer.from(`u:${platform.adminKey}`).toString('base64')}`;
    expect((await fetch(`${platform.gateway}/api/sources`, { headers: { authorization: basic } })).status).toBe(401);
    expect((await fetch(`${platform.gateway}/api/sources?p=${platform.adminKey}`)).status).toBe(401);
    expect((await fetch(`${platform.gateway}/api/sources`, { headers: { authorization: `Token ${platform.adminKey}` } })).status).toBe(200);
  });
});

describe('hostile input on the write routes', () => {
  const v2 = '/api/v2/write?bucket=b&precision=s';

  it('refuses a line holding NUL on its own, and stores the others', async () => {
    const response = await write(
      v2,
      'nul,host=lp-nul value=1 1700000060\nnul,host=lp-nul,t=a\u0000b value=2 1700000061\nnul,host=lp-nul value=3 1700000062',
    );
    expect(response.status).toBe(400);
    expect((await response.json()) as object).toEqual({ code: 'invalid', line: 2, message: expect.stringMatching(/line 2: .*NUL/) });
    await platform.drained();
    expect((await points('lp-nul', 'nul')).map((p) => p.value)).toEqual([1, 3]);
  });

  it('reads invalid UTF-8 as replacement characters, never as lone surrogates', async () => {
    const body = Buffer.concat([
      Buffer.from('utf,host=lp-utf s="a'),
      Buffer.from([0xff, 0xfe, 0xed, 0xa0, 0x80, 0xc0, 0x80]),
      Buffer.from('b" 1700000070'),
    ]);
    expect((await write(v2, body)).status).toBe(204);
    await platform.drained();
    const [stored] = await points('lp-utf', 'utf.s');
    expect(stored.value).toMatch(/^a\uFFFD+b$/);
  });

  it('answers a body over 5 MiB, or one that inflates past it, 413 in InfluxDB shape', async () => {
    const big = `big,host=lp-huge s="${'x'.repeat(6 * 1024 * 1024)}"`;
    const plain = await write(v2, big);
    expect(plain.status).toBe(413);
    expect(((await plain.json()) as { code: string }).code).toBe('request too large');
    const bomb = await write(v2, gzipSync(Buffer.from(big)), { 'content-encoding': 'gzip' });
    expect(bomb.status).toBe(413);
    expect(((await bomb.json()) as { code: string }).code).toBe('request too large');
  });

  it('refuses values past the limits of /api/ingest on their line: a 100,000-character string, a 300-character session', async () => {
    const response = await write(v2, `long,host=lp-long s="${'y'.repeat(100_000)}" 1700000080\nlong,host=lp-long n=1 1700000081`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { line: number }).line).toBe(1);
    const session = await write(
      `/api/v2/write?precision=s&bucket_is_session=true&bucket=${'s'.repeat(300)}`,
      'm,host=lp-long value=1 1700000082',
    );
    expect(session.status).toBe(400);
    expect(((await session.json()) as { message: string }).message).toMatch(/session_id/);
  });

  it('refuses bad query parameters: a repeated precision, a 200-character source_tag, NUL in the bucket', async () => {
    for (const query of ['precision=ns&precision=s', `source_tag=${'t'.repeat(200)}`, 'bucket=a%00b&bucket_is_session=true']) {
      const response = await write(`/api/v2/write?${query}`, 'm,host=lp-q value=1');
      expect(response.status).toBe(400);
      expect(Object.keys((await response.json()) as object).sort()).toEqual(['code', 'message']);
    }
  });

  it('answers before reading the body when the key is missing or lacks write', async () => {
    const trickle = await fetch(`${platform.gateway}/write?db=x`, { method: 'POST', body: `m value=1\n`.repeat(200_000) });
    expect(trickle.status).toBe(401);
    expect(Object.keys((await trickle.json()) as object)).toEqual(['error']);
  });
});
