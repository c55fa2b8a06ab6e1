import type { StreamEvent } from '../server-adapter/event-stream-types.js';
import { formatBytes } from './format.js';
import type { Palette } from './output.js';

/**
 * One line per live event, for `epara devices --watch` and `epara deployments --watch`: the time,
 * the device and what happened, coloured like the tables (online green, trouble yellow or red).
 */
export function eventLine(e: StreamEvent, c: Palette): string | undefined {
  const time = c.dim(new Date(e.at).toISOString().slice(11, 19));
  const line = (id: string, what: string) => `${time}  ${c.bold(id)}  ${what}`;
  switch (e.kind) {
    case 'device.registered':
      return line(e.data.deviceId, `${c.green('registered')}${e.data.deviceClass ? ` ${e.data.deviceClass}` : ''}${e.data.remote ? ` from ${e.data.remote}` : ''}`);
    case 'device.back':
      return line(e.data.deviceId, `${c.green('back')} (${e.data.state})`);
    case 'device.degraded':
      return line(e.data.deviceId, c.yellow('degraded: heartbeats missed or link dropped'));
    case 'device.lost':
      return line(e.data.deviceId, c.red('lost: its lease ran out'));
    case 'device.left':
      return line(e.data.deviceId, c.dim('left'));
    case 'device.revoked':
      return line(e.data.deviceId, c.red('revoked'));
    case 'device.state': {
      const d = e.data;
      const services = d.services.map((s) => `${s.name}:${s.status}${s.queueLen ? ` q${s.queueLen}` : ''}`).join(' ');
      return line(d.deviceId, c.dim(`load ${(d.load * 100).toFixed(0)}%  mem free ${formatBytes(d.memFreeKiB * 1024)}${d.rttMs !== undefined ? `  rtt ${d.rttMs.toFixed(1)} ms` : ''}${services ? `  ${services}` : ''}`));
    }
    case 'deployment.progress': {
      const d = e.data;
      const pct = d.size > 0 ? ` ${Math.floor((100 * d.offset) / d.size)}%` : '';
      return line(d.deviceId, `#${d.deploymentId} ${d.service}@${d.version} ${d.state} ${formatBytes(d.offset)}/${formatBytes(d.size)}${pct}${d.interrupted ? c.yellow(' (link dropped: resumes when the device is back)') : ''}`);
    }
    case 'deployment.result': {
      const d = e.data;
      const head = `#${d.deploymentId} ${d.service}@${d.version} `;
      if (d.state === 'ready') return line(d.deviceId, head + c.green('ready'));
      return line(d.deviceId, head + c.red(d.state) + (d.errorCode ? ` ${d.errorCode}${d.reason ? `: ${d.reason}` : ''}` : '') + (d.hint ? `\n          hint: ${d.hint}` : ''));
    }
    case 'audit':
      // Registry changes that come as audit rows: provisioned, approved, enrolled (pending).
      return e.data.deviceId ? line(e.data.deviceId, `${e.data.event.replace(/^device\./, '')}${e.data.detail ? c.dim(` (${e.data.detail})`) : ''}`) : undefined;
    case 'stream.gap':
      return `${time}  ${c.yellow(`missed events (${e.data.reason}${e.data.missed !== undefined ? `, ${e.data.missed}` : ''}); current state follows`)}`;
    default:
      return undefined;
  }
}
