'use strict';

/**
 * What the Serverless Framework cannot say about the REST API's deployment, written into the
 * template it packages (so the packaged-template test sees it):
 *
 * - The deployment depends on every gateway response. Serverless names the deployment afresh on
 *   each deploy and orders it after the methods only, so on a first deploy CloudFormation could
 *   snapshot the API before the responses exist, and the contract's JSON errors would be missing
 *   from the live stage until the next deploy.
 * - The stage's throttling limits (`custom.apiThrottling`): every method of the stage, at
 *   `rateLimit` requests per second with bursts of `burstLimit`, instead of the account-wide
 *   default shared by every API of the region.
 */
class ApiGatewayStage {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'after:aws:package:finalize:mergeCustomProviderResources': () => this.amendDeployment() };
  }

  amendDeployment() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const idsOf = (type) => Object.keys(resources).filter((id) => resources[id].Type === type);
    const [deploymentId] = idsOf('AWS::ApiGateway::Deployment');
    if (!deploymentId) return;
    const deployment = resources[deploymentId];
    const dependsOn = [deployment.DependsOn ?? []].flat();
    deployment.DependsOn = [...new Set([...dependsOn, ...idsOf('AWS::ApiGateway::GatewayResponse')])];

    const { rateLimit, burstLimit } = this.serverless.service.custom?.apiThrottling ?? {};
    if (rateLimit === undefined || burstLimit === undefined) {
      throw new Error('custom.apiThrottling needs rateLimit and burstLimit: a deployed stage is never left unthrottled');
    }
    deployment.Properties.StageDescription = {
      ...deployment.Properties.StageDescription,
      ThrottlingRateLimit: Number(rateLimit),
      ThrottlingBurstLimit: Number(burstLimit),
    };
  }
}

module.exports = ApiGatewayStage;
