/**
 * A systemd unit for `epara serve` on this data dir (pure). Written, not installed: enabling a
 * service is the operator's decision, so init prints the two commands that do it.
 */
export function systemdUnit(o: { execStart: string[]; dataDir: string; user?: boolean }): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, '\\$1')}"`);
  return [
    '[Unit]',
    'Description=epara server (device links, registry, HTTP API)',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${o.execStart.map(quote).join(' ')}`,
    // SIGTERM is a clean stop: BYE to devices, registry committed (docs/cli.md).
    'KillSignal=SIGTERM',
    'Restart=on-failure',
    'RestartSec=5',
    `Environment=EPARA_DATA_DIR=${quote(o.dataDir)}`,
    'Environment=NO_COLOR=1',
    '',
    '[Install]',
    `WantedBy=${o.user ? 'default.target' : 'multi-user.target'}`,
    '',
  ].join('\n');
}
