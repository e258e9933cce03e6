#!/usr/bin/env bash
# LocalStack runs this when its services are ready. Resources are not created here: the deploy
# service creates everything from serverless.yml, so there is one definition of them.
echo "LocalStack ready for the task-service deployment (stage: localstack)"
