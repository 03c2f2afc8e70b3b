# Earthmover as a Hugging Face Docker Space (sdk: docker, app_port: 8501).
# Build and run locally:
#   docker build -t earthmover .
#   docker run --rm -p 8501:8501 earthmover          # then open http://localhost:8501
#
# GPU (a GPU Space or any machine with an NVIDIA driver): the same image uses
# CUDA when torch is the CUDA build of 2.13.0. Set the build arg TORCH_INDEX to
# a PyTorch wheel index and that build is installed before the requirements
# (whose torch==2.13.0 pin it then already satisfies):
#   docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 -t earthmover:gpu .
#   docker run --rm --gpus all -p 8501:8501 earthmover:gpu
# On Hugging Face, Space variables are passed to the build as build args: add a
# variable TORCH_INDEX = https://download.pytorch.org/whl/cu128 in the Space's
# settings. TORCH_INDEX=https://download.pytorch.org/whl/cpu gives a slim
# CPU-only image (PyPI's default Linux torch wheel pulls the CUDA libraries).
FROM python:3.11-slim

ARG TORCH_INDEX=""

ENV OMP_NUM_THREADS=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Hugging Face runs the container as uid 1000.
RUN useradd --create-home --uid 1000 user
WORKDIR /home/user/app
RUN chown user:user /home/user/app

# Dependencies first, so that code changes do not reinstall them.
COPY requirements.txt ./
RUN if [ -n "$TORCH_INDEX" ]; then \
        pip install --no-cache-dir --index-url "$TORCH_INDEX" torch==2.13.0; \
    fi
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=user:user . .

USER user
ENV HOME=/home/user

EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import sys, urllib.request; r = urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4); sys.exit(0 if r.read().strip() == b'ok' else 1)"

CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
