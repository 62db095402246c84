# The mock server in a container: `docker build -t aimlapi-mock .` then
# `docker run --rm -p 8080:8080 aimlapi-mock`; point base_url at http://127.0.0.1:8080/v1.
# Every `harness serve` option can be given as a HARNESS_* variable (docker run -e ...).

# Build stage: a wheel of the project (the shipped specs are inside it).
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY harness ./harness
COPY mockserver ./mockserver
COPY specs ./specs
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Run stage: the wheel and its dependencies only, run by an unprivileged user.
FROM python:3.12-slim
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 10001 harness
USER harness
WORKDIR /home/harness
# The port (also read by the health check), and log lines as they are written.
ENV HARNESS_PORT=8080 \
    PYTHONUNBUFFERED=1
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HARNESS_PORT', '8080') + '/_mock/health', timeout=2)"]
ENTRYPOINT ["harness"]
CMD ["serve", "--host", "0.0.0.0"]
