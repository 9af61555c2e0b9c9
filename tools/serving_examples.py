"""Write or check the TF Serving REST examples of the shipped models.

    python tools/serving_examples.py            # check docs/serving against the zoo
    python tools/serving_examples.py --write    # (re)write them from the newest versions,
                                                # and the README

Each example is a request body (``<model>.<signature>.request.json``) and the
response TF Serving gives for it (``.response.json``), computed with
``saved_model_cli run --input_exprs`` on the same inputs; ``examples.json``
lists them with the model versions and the expressions.
"""

import sys

from absl import flags

from vocal_xai import cli

flags.DEFINE_string("docs", "docs/serving", "Folder of the examples.")
flags.DEFINE_boolean(
    "write", False, "Write the examples (and the README's copy) instead of checking them."
)
flags.DEFINE_string("readme", "README.md", "README whose serving examples --write updates.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from vocal_xai import serving_examples

    if FLAGS.write:
        for entry in serving_examples.write(FLAGS.docs):
            print(
                f"wrote {FLAGS.docs}/{entry['request']} and {entry['response']} "
                f"({entry['model']} version {entry['version']})"
            )
        serving_examples.update_readme(FLAGS.readme, FLAGS.docs)
        print(f"updated the examples in {FLAGS.readme}")
        return
    problems = serving_examples.verify(FLAGS.docs)
    for problem in problems:
        print(problem)
    if problems:
        sys.exit(f"serving examples differ from the models: {len(problems)} problem(s)")
    print(f"serving examples in {FLAGS.docs} match saved_model_cli")


if __name__ == "__main__":
    cli.run(main)
