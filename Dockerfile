# paperbot: the Discord bot (or any paperbot command) in a container.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY benchmarks ./benchmarks
COPY seeds ./seeds
RUN pip install --no-cache-dir ".[postgres]"
# Settings come from the environment (see .env.example); the token is never baked in.
ENTRYPOINT ["paperbot"]
CMD ["run"]
