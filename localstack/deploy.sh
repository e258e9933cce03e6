#!/usr/bin/env bash
# Run by the `deploy` service of docker-compose.yml: the same serverless.yml as for AWS, stage
# `localstack`; AWS_ENDPOINT_URL (localstack/deploy.env) sends every AWS SDK call to LocalStack.
set -euo pipefail
npm ci --no-audit --no-fund
npx serverless deploy --stage localstack
npx serverless info --stage localstack --verbose
