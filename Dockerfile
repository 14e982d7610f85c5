# One image for every service of the platform; compose.yaml picks the command.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY domain domain
COPY eventstore eventstore
COPY readmodels readmodels
COPY command_api command_api
COPY query_api query_api
COPY projector projector
COPY migrations migrations
COPY orders orders
COPY launch launch
# not loadtest: the development tools (orders bench, loadtest, soak) stay out of production
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --create-home --uid 10001 orders
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER orders
WORKDIR /home/orders
# the checkpoints' volume mounts here: made now, it is the user's, not root's
RUN mkdir checkpoints erasures
ENV PYTHONUNBUFFERED=1 LOG_LEVEL=INFO
EXPOSE 8000 8001
CMD ["orders", "--help"]
