"""jtbd-pipeline: French Jobs-To-Be-Done interviews in, tagged sentences and job segments out.

The package is organised by stage, in the order data flows:

    ingest -> transcribe -> speakers -> sentences -> tagging -> segments -> outputs

Each stage is a plain function (tests and other code call it directly); ``pipeline.cli``
is a thin typer layer over them, and ``pipeline.run`` orchestrates a whole batch.
"""

__version__ = "0.1.0"
