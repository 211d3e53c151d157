import { enableCompileCache } from 'node:module';
import { CONTROLLER_USAGE, parseControllerConfig } from '../../config/controller.ts';
import { createLogger } from '../../observability/logger.ts';
import { exitOnCrash, shutdownSignal } from '../../runtime/manager.ts';
import type { Command } from './command.ts';

export const command: Command = {
  summary: 'run the controller against the current kubeconfig',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(CONTROLLER_USAGE);
      return 0;
    }
    let config;
    try {
      config = parseControllerConfig(argv, process.env);
    } catch (err) {
      process.stderr.write(
        `rebound controller: ${err instanceof Error ? err.message : String(err)}\n\n${CONTROLLER_USAGE}`,
      );
      return 2;
    }
    const log = createLogger({ level: config.logLevel, pretty: config.logPretty });
    // Reconciles never crash the loop; an error outside it is a bug, and a restart beats limping on.
    exitOnCrash(log);
    const { signal, dispose } = shutdownSignal(log);
    try {
      // Most of the start-up is compiling the Kubernetes client; V8's code cache (in $NODE_COMPILE_CACHE
      // or the OS temp dir) makes every start after the first one on a node much faster.
      enableCompileCache();
      const { startController } = await import('../../wire.ts');
      const running = startController(config, log, signal);
      const exit = await running.done;
      // A part failed: exit non-zero so the Pod restarts cleanly (a lost Lease is campaigned for again).
      return exit === 'stopped' ? 0 : 1;
    } catch (err) {
      log.error({ err }, 'controller failed to start');
      return 1;
    } finally {
      dispose();
    }
  },
};
