import { Command } from 'commander';
import type { CliContext, ExitState } from '../context.js';
import { action } from '../command-env.js';
import { renderTable } from '../output.js';
import { addProfile, profilesPath, readProfiles, removeProfile } from '../profiles.js';

export function profileCommand(ctx: CliContext, exit: ExitState): Command {
  const profile = new Command('profile').description('named connections to a server (URL + token file), used with --profile NAME on any command').addHelpText(
    'after',
    `
Profiles live in $XDG_CONFIG_HOME/epara/profiles.json (else ~/.config/epara/profiles.json), mode 0600.
A profile stores the token file's path, never the token. --server/--token on a command still win.
Examples:
  epara profile add lab --server http://10.0.0.5:8080 --token-file ~/.config/epara/lab.token
  epara --profile lab devices
  epara deploy model.onnx --service cls --category latency-single --to all --profile lab
  epara profile ls
  epara profile rm lab`,
  );

  profile.addCommand(
    new Command('add')
      .description('add (or with --force replace) a named connection')
      .argument('<name>', 'profile name, e.g. lab')
      .requiredOption('--server <url>', 'HTTP API of the epara serve (the "http api:" line it prints)')
      .requiredOption('--token-file <file>', "file holding its bearer token (a copy of the server's <data dir>/http-token)")
      .option('--force', 'replace a profile of that name')
      .action(
        action(ctx, exit, async (env, name: string, flags: { server: string; tokenFile: string; force?: boolean }) => {
          const res = addProfile(env.ctx.env, env.ctx.cwd, name, flags.server, flags.tokenFile, flags.force ?? false);
          if (res.warning) env.out.warn(res.warning);
          env.out.result({ name, ...res.profile, file: res.path }, () => `profile ${name}: ${res.profile.server} (token from ${res.profile.tokenFile}); use it with --profile ${name}`);
        }),
      ),
  );

  profile.addCommand(
    new Command('ls')
      .description('list the profiles')
      .action(
        action(ctx, exit, async (env) => {
          const all = readProfiles(env.ctx.env);
          const rows = Object.entries(all).map(([name, p]) => ({ name, ...p }));
          env.out.result(rows, () =>
            rows.length === 0
              ? `no profiles in ${profilesPath(env.ctx.env)}; add one with \`epara profile add <name> --server URL --token-file FILE\``
              : renderTable(rows, [
                  { header: 'NAME', value: (r) => r.name, paint: (c) => env.out.c.bold(c) },
                  { header: 'SERVER', value: (r) => r.server },
                  { header: 'TOKEN FILE', value: (r) => r.tokenFile },
                ], env.out.c),
          );
        }),
      ),
    { isDefault: true },
  );

  profile.addCommand(
    new Command('rm')
      .description('remove a profile (its token file is left alone)')
      .argument('<name>', 'profile name')
      .action(
        action(ctx, exit, async (env, name: string) => {
          removeProfile(env.ctx.env, name);
          env.out.result({ name, removed: true }, () => `removed profile ${name}`);
        }),
      ),
  );
  return profile;
}
