#!/usr/bin/env bash
# Run by the `deploy` service of docker-compose.yml: the same serverless.yml as for AWS, stage
# `localstack`; AWS_ENDPOINT_URL (localstack/deploy.env) sends every AWS SDK call to LocalStack.
# The checkout (/src, read-only) is copied into the container first, so the build's .esbuild/ and
# .serverless/ never land in it as root-owned files; node_modules is a named volume kept between runs.
set -euo pipefail
tar -C /src --exclude=./node_modules --exclude=./.git --exclude=./.esbuild --exclude=./.esbuild-offline --exclude=./.serverless -cf - . | tar -C /app -xf -
npm ci --no-audit --no-fund
npx serverless deploy --stage localstack
npx serverless info --stage localstack --verbose
