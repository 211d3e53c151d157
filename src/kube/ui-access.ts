// The API server calls behind the web UI: who a bearer token is (TokenReview), what that user may do
// (SubjectAccessReview), both with the controller's identity (the `system:auth-delegator` role, as
// kube-rbac-proxy uses); and everything the UI does for a person, made with the person's own token,
// so RBAC and the Approval admission policy judge the person, never the controller.
import { AuthenticationV1Api, AuthorizationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ANNOTATIONS, API_VERSION, KINDS } from '../api/constants.ts';
import type { ApprovalDecision } from '../api/index.ts';
import { classifyKubeError } from './errors.ts';
import { reboundClients } from './resources.ts';

export interface ReviewedUser {
  username: string;
  groups: string[];
}

export interface KubeUiAccess {
  authenticate(token: string): Promise<ReviewedUser | undefined>;
  allowed(
    user: ReviewedUser,
    attributes: { verb: string; group: string; resource: string; namespace: string },
  ): Promise<boolean>;
  createApproval(
    token: string,
    user: ReviewedUser,
    answer: { namespace: string; problem: string; attempt: number; decision: ApprovalDecision; message?: string },
  ): Promise<string>;
  setSuspended(token: string, namespace: string, name: string, suspended: boolean): Promise<void>;
  events(
    token: string,
    namespace: string,
    uid: string,
  ): Promise<{ type: string; reason: string; message: string; count: number; lastTime: string }[]>;
}

/** A kubeconfig for the same cluster as `kc`, authenticated with `token` only. */
export function kubeConfigForToken(kc: KubeConfig, token: string): KubeConfig {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig names no cluster');
  const user = new KubeConfig();
  user.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'ui-user', token }],
    contexts: [{ name: 'ui', cluster: cluster.name, user: 'ui-user' }],
    currentContext: 'ui',
  });
  return user;
}

export function kubeUiAccess(kc: KubeConfig): KubeUiAccess {
  const authn = kc.makeApiClient(AuthenticationV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  return {
    async authenticate(token) {
      try {
        const review = await authn.createTokenReview({ body: { spec: { token } } });
        const u = review.status?.user;
        if (!review.status?.authenticated || !u?.username) return undefined;
        return { username: u.username, groups: u.groups ?? [] };
      } catch (err) {
        throw classifyKubeError(err, 'review a UI token');
      }
    },
    async allowed(user, a) {
      try {
        const review = await authz.createSubjectAccessReview({
          body: {
            spec: {
              user: user.username,
              groups: user.groups,
              resourceAttributes: { verb: a.verb, group: a.group, resource: a.resource, namespace: a.namespace },
            },
          },
        });
        return review.status?.allowed === true;
      } catch (err) {
        throw classifyKubeError(err, `review access of ${user.username}`);
      }
    },
    async createApproval(token, user, answer) {
      const clients = reboundClients(kubeConfigForToken(kc, token), 'rebound-ui');
      const { object } = await clients.approvals.create({
        apiVersion: API_VERSION,
        kind: KINDS.Approval,
        metadata: { namespace: answer.namespace, generateName: `${answer.problem.slice(0, 40)}-${answer.attempt}-` },
        spec: {
          problem: answer.problem,
          attempt: answer.attempt,
          decision: answer.decision,
          user: user.username,
          ...(user.groups.length > 0 ? { groups: user.groups } : {}),
          ...(answer.message ? { message: answer.message } : {}),
        },
      });
      return object?.metadata.name ?? '';
    },
    async setSuspended(token, namespace, name, suspended) {
      const clients = reboundClients(kubeConfigForToken(kc, token), 'rebound-ui');
      await clients.problemEvents.patch(namespace, name, {
        metadata: { annotations: { [ANNOTATIONS.suspend]: suspended ? 'true' : null } as Record<string, string> },
      });
    },
    async events(token, namespace, uid) {
      try {
        const list = await kubeConfigForToken(kc, token)
          .makeApiClient(CoreV1Api)
          .listNamespacedEvent({ namespace, fieldSelector: `involvedObject.uid=${uid}`, limit: 100 });
        return list.items
          .map((e) => ({
            type: e.type ?? '',
            reason: e.reason ?? '',
            message: e.message ?? '',
            count: e.count ?? e.series?.count ?? 1,
            lastTime: new Date(
              e.lastTimestamp ?? e.eventTime ?? e.series?.lastObservedTime ?? e.metadata.creationTimestamp ?? 0,
            ).toISOString(),
          }))
          .sort((x, y) => x.lastTime.localeCompare(y.lastTime));
      } catch (err) {
        throw classifyKubeError(err, `list events of ${namespace}/${uid}`);
      }
    },
  };
}
