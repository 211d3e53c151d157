// `rebound approve|reject PROBLEM [--attempt N] [--message TEXT] [-n NS] [--kubeconfig FILE]`
//
// Answers an attempt that waits for approval by creating an Approval with the identity the
// kubeconfig already carries: the API server says who that is (SelfSubjectReview), and its
// admission policy refuses an Approval that names anyone else. RBAC decides whether the person may
// create Approvals at all; the Project's spec.approval.groups whether their answer counts.
//
// Exit codes: 0 recorded, 1 refused (not allowed, nothing waits for an answer), 2 bad input.
import { parseArgs } from 'node:util';
import { AuthenticationV1Api } from '@kubernetes/client-node';
import { isTerminal } from '../../api/phases.ts';
import type { ApprovalDecision, Attempt, ProblemEvent } from '../../api/index.ts';
import { errorMessage } from '../../errors.ts';
import { classifyKubeError } from '../../kube/errors.ts';
import { loadKubeConfig, reboundClients } from '../../kube/index.ts';
import type { Command } from './command.ts';

const usage = (
  verb: string,
): string => `Usage: rebound ${verb} PROBLEM [--attempt N] [--message TEXT] [-n NAMESPACE] [--kubeconfig FILE]

${verb === 'approve' ? 'Approves' : 'Rejects'} the attempt of ProblemEvent PROBLEM that waits for approval (the current one
unless --attempt says which), as the user of your kubeconfig: the API server records who you are.

Exit status: 0 recorded, 1 refused (not allowed, or nothing waits for an answer), 2 bad input.`;

export const EXIT = { recorded: 0, refused: 1, badInput: 2 } as const;

/** Which attempt an answer is for, or why there is none to answer. */
export function attemptToAnswer(
  problem: ProblemEvent | undefined,
  wanted: number | undefined,
  ref: string,
): { ok: true; attempt: Attempt } | { ok: false; message: string } {
  if (!problem) return { ok: false, message: `ProblemEvent ${ref} does not exist` };
  const status = problem.status ?? {};
  if (isTerminal(status.phase))
    return {
      ok: false,
      message: `ProblemEvent ${ref} is finished (${status.phase ?? ''}): nothing waits for an answer`,
    };
  const attempts = status.attempts ?? [];
  const attempt = wanted === undefined ? attempts[attempts.length - 1] : attempts.find((a) => a.index === wanted);
  if (!attempt)
    return {
      ok: false,
      message:
        wanted === undefined
          ? `ProblemEvent ${ref} has no attempt yet`
          : `ProblemEvent ${ref} has no attempt ${wanted}`,
    };
  if (attempt.approval?.state !== 'Pending') {
    const state = attempt.approval ? `its approval is ${attempt.approval.state}` : 'it does not wait for approval';
    return { ok: false, message: `attempt ${attempt.index} of ProblemEvent ${ref} cannot be answered: ${state}` };
  }
  return { ok: true, attempt };
}

interface Args {
  problem: string;
  attempt: number | undefined;
  message: string | undefined;
  namespace: string | undefined;
  kubeconfig: string | undefined;
}

function parse(argv: string[]): Args | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      attempt: { type: 'string' },
      message: { type: 'string', short: 'm' },
      namespace: { type: 'string', short: 'n' },
      kubeconfig: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length !== 1 || !positionals[0]) throw new Error('name exactly one ProblemEvent');
  let attempt: number | undefined;
  if (values.attempt !== undefined) {
    attempt = Number(values.attempt);
    if (!/^\d+$/.test(values.attempt) || attempt < 1)
      throw new Error(`--attempt must be a number from 1, not "${values.attempt}"`);
  }
  if (values.message !== undefined && values.message.length > 1024)
    throw new Error('--message is longer than 1024 characters');
  return {
    problem: positionals[0],
    attempt,
    message: values.message,
    namespace: values.namespace,
    kubeconfig: values.kubeconfig,
  };
}

function answerCommand(decision: ApprovalDecision, verb: 'approve' | 'reject'): Command {
  return {
    summary: `${verb} an attempt that waits for approval, as your Kubernetes user`,
    async run(argv) {
      let args: Args | 'help';
      try {
        args = parse(argv);
      } catch (err) {
        process.stderr.write(`rebound ${verb}: ${errorMessage(err)}\n\n${usage(verb)}\n`);
        return EXIT.badInput;
      }
      if (args === 'help') {
        process.stdout.write(`${usage(verb)}\n`);
        return 0;
      }
      const kc = loadKubeConfig(args.kubeconfig ? { kind: 'file', path: args.kubeconfig } : { kind: 'default' });
      const namespace = args.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
      const ref = `${namespace}/${args.problem}`;
      const clients = reboundClients(kc, 'rebound-cli');
      try {
        const target = attemptToAnswer(await clients.problemEvents.get(namespace, args.problem), args.attempt, ref);
        if (!target.ok) {
          process.stderr.write(`rebound ${verb}: ${target.message}\n`);
          return EXIT.refused;
        }
        // Who the API server says we are: the admission policy accepts nothing else.
        const review = await kc
          .makeApiClient(AuthenticationV1Api)
          .createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
        const user = review.status?.userInfo?.username;
        if (!user) throw new Error('the API server did not say who you are (SelfSubjectReview has no user name)');
        const groups = review.status?.userInfo?.groups ?? [];
        const { object } = await clients.approvals.create({
          apiVersion: 'rebound.dev/v1alpha1',
          kind: 'Approval',
          metadata: { namespace, generateName: `${args.problem.slice(0, 40)}-${target.attempt.index}-` },
          spec: {
            problem: args.problem,
            attempt: target.attempt.index,
            decision,
            user,
            ...(groups.length > 0 ? { groups } : {}),
            ...(args.message ? { message: args.message } : {}),
          },
        });
        process.stdout.write(
          `${verb === 'approve' ? 'approved' : 'rejected'} attempt ${target.attempt.index} (${target.attempt.action} ${target.attempt.value}) of ${ref} as ${user} (Approval ${namespace}/${object?.metadata.name ?? '?'})\n`,
        );
        return EXIT.recorded;
      } catch (err) {
        const e = classifyKubeError(err, `${verb} ${ref}`);
        process.stderr.write(`rebound ${verb}: ${errorMessage(e)}\n`);
        return e.status === 403 || e.status === 422 || e.status === 400 ? EXIT.refused : EXIT.badInput;
      }
    },
  };
}

export const approve = answerCommand('Approve', 'approve');
export const reject = answerCommand('Reject', 'reject');
