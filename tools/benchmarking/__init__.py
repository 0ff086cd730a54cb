"""What ``tools/benchmark.py`` times and how: the candidates (visionkit and torchvision's twins, eager,
deployed and in the runtimes), interleaved timing, the CPU's peak, memory, training and data-loader
throughput.

Measurement code kept beside the tool that uses it rather than in the ``visionkit`` package;
``tools/benchmark.py`` puts this folder on ``sys.path``.
"""
