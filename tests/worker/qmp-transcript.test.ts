/**
 * The QMP consoles' transcript through the worker: every command with its reply and every QMP
 * event reaches the page (frames' `qmp`, numbered), is saved, comes back whole after a reload
 * even when a workload has pushed it out of the event log, and sessions saved before the
 * consoles start theirs from the event log. The QMP runbook export, line by line.
 */
import { describe, expect, it } from 'vitest';
import { SimSession } from '../../src/worker/session.js';
import { applyQmpNews, commandHistory, consoleLines, EMPTY_TRANSCRIPT, type QmpTranscript } from '../../src/ui/lib/qmp-transcript.js';
import { mustExecute, openSession, RecordingPorts } from './support/session-harness.js';

let databaseCounter = 0;
const nextDatabase = () => `qmp-db-${databaseCounter++}`;

/** The transcript as the page assembles it from every frame posted so far. */
function pageTranscript(ports: RecordingPorts): QmpTranscript {
  return ports.frames().reduce((transcript, frame) => applyQmpNews(transcript, frame.qmp), EMPTY_TRANSCRIPT);
}

const texts = (transcript: QmpTranscript, host: 'primary' | 'secondary') => consoleLines(transcript, host).map((line) => line.text);

async function coloStartByQmp(session: SimSession): Promise<void> {
  await mustExecute(session, { op: 'qmp', host: 'primary', execute: 'migrate-set-capabilities', arguments: { capabilities: [{ capability: 'x-colo', state: true }] } });
  await mustExecute(session, { op: 'qmp', host: 'primary', execute: 'migrate', arguments: { uri: 'tcp:secondary:9998' } });
  await mustExecute(session, { op: 'run', for: '10ms' });
}

describe('QMP transcript', () => {
  it('frames carry each command with its reply and each event, per host and in order', async () => {
    const { session, ports } = await openSession(nextDatabase());
    await session.newSimulation({ diskSizeBytes: 1024 * 1024, clusterSizeBytes: 65536 });
    await mustExecute(session, { op: 'qmp', host: 'secondary', execute: 'query-status' });
    await mustExecute(session, { op: 'qmp', host: 'primary', execute: 'query-cheese' });
    await coloStartByQmp(session);
    const transcript = pageTranscript(ports);
    expect(texts(transcript, 'secondary')).toEqual([
      '{"execute": "query-status"}',
      '{"return": {"status": "inmigrate", "singlestep": false, "running": false}}',
      '{"timestamp": {"seconds": 0, "microseconds": 500}, "event": "RESUME"}',
    ]);
    expect(texts(transcript, 'primary')).toEqual([
      '{"execute": "query-cheese"}',
      '{"error": {"class": "CommandNotFound", "desc": "The command query-cheese has not been found"}}',
      '{"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "x-colo", "state": true}]}}',
      '{"return": {}}',
      '{"execute": "migrate", "arguments": {"uri": "tcp:secondary:9998"}}',
      // colo-sim's migrate stops the VM before it answers (migration_completion): the event comes before the reply, as QEMU's monitor sends them.
      '{"timestamp": {"seconds": 0, "microseconds": 0}, "event": "STOP"}',
      '{"return": {}}',
      '{"timestamp": {"seconds": 0, "microseconds": 1000}, "event": "RESUME"}',
    ]);
    expect(commandHistory(transcript, 'primary')).toEqual(['query-cheese', 'migrate-set-capabilities {"capabilities": [{"capability": "x-colo", "state": true}]}', 'migrate {"uri": "tcp:secondary:9998"}']);
    // Numbered from the simulation's start, each entry once.
    expect(transcript.firstIndex).toBe(0);
    expect(transcript.entries.length).toBe(new Set(transcript.entries.map((entry) => entry.sequence)).size);
  });

  it('comes back whole after a reload, though a workload pushed it out of the event log', async () => {
    const databaseName = nextDatabase();
    const first = await openSession(databaseName);
    await first.session.newSimulation({ diskSizeBytes: 4 * 1024 * 1024, clusterSizeBytes: 65536, seed: 5 });
    await coloStartByQmp(first.session);
    await mustExecute(first.session, { op: 'qmp', host: 'primary', execute: 'migrate-set-parameters', arguments: { 'x-checkpoint-delay': 100 } });
    await mustExecute(first.session, { op: 'workload', writesPerSecond: 4000, vm: 'both' });
    await mustExecute(first.session, { op: 'run', for: '1s' });
    await mustExecute(first.session, { op: 'workload', writesPerSecond: 0 });
    const before = pageTranscript(first.ports);
    expect(texts(before, 'primary').filter((text) => text.includes('"execute"'))).toHaveLength(3);
    // The periodic checkpoints of x-checkpoint-delay 100 stop and start the primary's VM.
    expect(texts(before, 'primary').filter((text) => text.includes('"event": "STOP"')).length).toBeGreaterThan(5);

    const second = await openSession(databaseName);
    const restoredFrame = second.ports.frames()[0]!;
    expect(restoredFrame.restored).toBe(true);
    // The event log kept the last 4000 events: the commands are long gone from it.
    expect(restoredFrame.events.some((event) => event.kind === 'qmp')).toBe(false);
    expect(restoredFrame.qmp?.reset).toBe(true);
    const after = pageTranscript(second.ports);
    expect(after).toEqual(before);

    // And it goes on from there, numbered on.
    await mustExecute(second.session, { op: 'qmp', host: 'secondary', execute: 'query-colo-status' });
    const more = pageTranscript(second.ports);
    expect(more.entries.length).toBe(before.entries.length + 1);
    expect(texts(more, 'secondary').slice(-2)).toEqual(['{"execute": "query-colo-status"}', '{"return": {"mode": "secondary", "last-mode": "none", "reason": "none"}}']);
  });

  it('a new simulation starts an empty transcript', async () => {
    const { session, ports } = await openSession(nextDatabase());
    await mustExecute(session, { op: 'qmp', host: 'primary', execute: 'query-status' });
    expect(pageTranscript(ports).entries).toHaveLength(1);
    await session.newSimulation({});
    expect(pageTranscript(ports).entries).toEqual([]);
  });

  it('a session saved before the consoles (no qmp log) starts its transcript from its event log', async () => {
    const databaseName = nextDatabase();
    const first = await openSession(databaseName);
    await mustExecute(first.session, { op: 'qmp', host: 'primary', execute: 'query-status' });
    await mustExecute(first.session, { op: 'qmp', host: 'secondary', execute: 'qmp_capabilities' });
    const expected = pageTranscript(first.ports);
    // Rewrite the save as a release without the consoles left it: no qmp member, no qmp pages.
    const records = await first.persistence.loadAll();
    const meta = records.find(([key]) => key === 'meta')![1] as Record<string, unknown>;
    const { qmp, ...older } = meta;
    expect(qmp).toEqual({ firstIndex: 0, endIndex: 2 });
    const qmpPages = records.filter(([key]) => Array.isArray(key) && key[0] === 'qmp').map(([key]) => ({ key, value: undefined }));
    expect(qmpPages.length).toBe(1);
    await first.persistence.save([{ key: 'meta', value: older }, ...qmpPages]);

    const second = await openSession(databaseName);
    expect(pageTranscript(second.ports)).toEqual(expected);
  });

  it('exports the session as a QMP runbook: the commands per host under host lines, the other steps as comments', async () => {
    const { session } = await openSession(nextDatabase());
    await session.newSimulation({ diskSizeBytes: 1024 * 1024, clusterSizeBytes: 65536 });
    await mustExecute(session, { op: 'colo-start' });
    await mustExecute(session, { op: 'guest-write', vm: 'primary', offset: 0, length: '4K', pattern: '0x22' });
    await mustExecute(session, { op: 'qmp', host: 'primary', execute: 'migrate-set-parameters', arguments: { 'x-checkpoint-delay': 500 } });
    await mustExecute(session, { op: 'checkpoint' });
    await mustExecute(session, { op: 'qmp', host: 'secondary', execute: 'nbd-server-start', arguments: { addr: { type: 'inet', data: { host: '0.0.0.0', port: '9999' } } } });
    await mustExecute(session, { op: 'failover', to: 'secondary' });
    const runbook = await session.exportQmpRunbook('my session');
    const body = runbook.split('\n').filter((line) => line !== '' && !/^# (colo-sim QMP runbook|Exported|One QMP|every other|Before the first|runs with|  )/.test(line) && line !== '#');
    expect(runbook.split('\n')[0]).toBe('# colo-sim QMP runbook: my session');
    expect(runbook).toContain('#   secondary: {"execute": "nbd-server-start", "arguments": {"addr": {"type": "inet", "data": {"host": "0.0.0.0", "port": "9999"}}}}');
    expect(body).toEqual([
      '# step 1: {"op": "colo-start"}',
      '# on the primary',
      '{"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "x-colo", "state": true}]}}',
      '{"execute": "migrate", "arguments": {"uri": "tcp:secondary:9998"}}',
      '# step 2: {"op": "guest-write", "vm": "primary", "offset": 0, "length": "4K", "pattern": "0x22"}',
      '{"execute": "migrate-set-parameters", "arguments": {"x-checkpoint-delay": 500}}',
      '# step 4: {"op": "checkpoint"}',
      // The checkpoint keeps the delay the session set before it.
      '{"execute": "migrate-set-parameters", "arguments": {"x-checkpoint-delay": 500}}',
      '# on the secondary',
      '{"execute": "nbd-server-start", "arguments": {"addr": {"type": "inet", "data": {"host": "0.0.0.0", "port": "9999"}}}}',
      '# step 6: {"op": "failover", "to": "secondary"}',
      '{"execute": "x-colo-lost-heartbeat"}',
    ]);
    expect(runbook).toContain("#   no QMP: The primary VM's own write: QMP does not do a guest's I/O.");
    expect(runbook).toContain('#   colo-sim answered with an error: NBD server already running');
    expect(runbook).toContain('#   no QMP: The primary host is lost');
    // The commands are exactly the lines that are not comments.
    const commands = runbook.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    for (const line of commands) expect(JSON.parse(line)).toHaveProperty('execute');
    expect(commands).toHaveLength(6);
  });
});
