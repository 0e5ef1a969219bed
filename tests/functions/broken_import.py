"""A rotation function whose module cannot be imported: the step fails with Lambda's
Runtime.ImportModuleError."""
import module_smemu_does_not_ship  # noqa: F401


def lambda_handler(event, context):
    raise AssertionError("never reached")
