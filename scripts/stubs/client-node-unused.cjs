// Stand-ins for the parts of @kubernetes/client-node's config.js that
// k8s-nrpe never calls: the generated API classes (we send our own GETs),
// fetch headers, proxy agents (we use our own https.Agent), and the legacy
// in-tree auth providers (azure, gcp, oidc; exec plugins still work).
// Bundling them would triple the binary and its start-up time.
class NotAuthProvider {
  isAuthProvider() { return false; }
  async applyAuthentication() {}
}
class Unsupported {
  constructor() { throw new Error('not supported by k8s-nrpe'); }
}
module.exports = {
  AzureAuth: NotAuthProvider,
  GoogleCloudPlatformAuth: NotAuthProvider,
  OpenIDConnectAuth: NotAuthProvider,
  Headers: Unsupported,
  SocksProxyAgent: Unsupported,
  HttpProxyAgent: Unsupported,
  HttpsProxyAgent: Unsupported,
  createConfiguration: () => { throw new Error('not supported by k8s-nrpe'); },
  ServerConfiguration: Unsupported,
};
