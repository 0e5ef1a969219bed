// Rotation functions that run as processes (issue 5): what `smemu serve` runs for
//
//   exec:COMMAND[?OPTIONS]
//       Each step runs `/bin/sh -c COMMAND` with the event JSON ({"Step", "SecretId",
//       "ClientRequestToken", "RotationToken"}) on standard input. Exit status 0 is success;
//       anything else fails the step with the status and the end of its standard error.
//   python:PATH[:HANDLER][?OPTIONS]
//       Each step runs an adapter shipped inside smemu under a Python interpreter: it loads PATH
//       as a module (its directory first on sys.path and the working directory, as Lambda's
//       /var/task) and calls HANDLER(event, context), default lambda_handler. The context has
//       function_name, invoked_function_arn, aws_request_id and get_remaining_time_in_millis()
//       on the same deadline as the timeout. The root logger gets a handler at INFO, as Lambda
//       installs one. An exception fails the step with "ErrorType: message" and the stack, as
//       Lambda reports errorType, errorMessage and stackTrace. Every boto3/botocore client the
//       function creates is pointed at the endpoint, whatever endpoint it names (Debian's boto3
//       ignores AWS_ENDPOINT_URL); clients of other services refuse every call, so an unchanged
//       function cannot reach real AWS. PATH is resolved against the working directory when the
//       function is made and must be a file then; HANDLER is a Python identifier (the text after
//       PATH's last ':' when it is one).
//
// Both take the common options (function_spec.h: timeout, step_seconds, fail_at, timeout_at)
// and no others. Per step, the process runs in a process group of its own with:
//   - smemu's environment without any variable that could reach real AWS: every name starting
//     with AWS_ or BOTO_ (any case) is dropped; AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE
//     are /dev/null and AWS_EC2_METADATA_DISABLED is true;
//   - SECRETS_MANAGER_ENDPOINT, AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_SECRETS_MANAGER: the
//     endpoint; AWS_REGION and AWS_DEFAULT_REGION: the region of the function's ARN (else the
//     host's region); dummy AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; AWS_LAMBDA_FUNCTION_NAME
//     (the ARN's function name) and _HANDLER (exec: the command; python: MODULE.HANDLER);
//     LAMBDA_TASK_ROOT (python: PATH's directory); the endpoint's host added to NO_PROXY and
//     no_proxy;
//   - only descriptors 0, 1 and 2 open (the python adapter also gets its result pipe, fd 3).
// Its standard output and standard error lines go to the host's log, each prefixed with
// "[NAME] ", as Lambda sends a function's output to CloudWatch. Whatever the step's end, the
// whole process group is killed (SIGKILL) once the command has exited, so nothing it started
// outlives the step, and the command is reaped.
//
// Timeout (D16): real elapsed time from the spawn, default 30 s. Past it the process group is
// killed, the pipes drained (for at most kDrainGrace, in case something left the group) and the
// step times out (StepResult::timeout, charged the whole timeout). Otherwise the step is charged
// the real time it took.
//
// D19: smemu puts no secret value in the event or the environment; what the function itself
// prints or raises is its own, as in Lambda.
//
// Errors (from make_process_function): InvalidParameterException for a spec of another scheme,
// an option the scheme does not take, a python PATH that is not a file, a HANDLER that is not an
// identifier, or no usable interpreter.
// Thread-safety: make_process_function reads the environment once, when called; the function it
// makes keeps no state between calls and may run from several threads at once.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>
#include <string_view>

#include "smemu/emulator/function_spec.h"
#include "smemu/emulator/rotation_function.h"
#include "smemu/model/result.h"

namespace smemu {

// Where process functions run: what the endpoint they call back is, and how to run Python.
struct ProcessHost {
  std::string endpoint_url;  // the running endpoint, e.g. http://127.0.0.1:4566
  std::string region;        // AWS_REGION when the function's ARN names no region
  // The interpreter of python: functions: a path, or a name looked up on PATH when a function
  // is made. Empty: default_python_interpreter().
  std::string python;
  // Where the functions' output lines go (written whole, one write each); nullptr: nowhere.
  std::ostream* log = nullptr;
};

struct ProcessFunction {
  RotationFunction function;  // with the spec's faults and step time applied (with_faults)
  FunctionOptions options;
};

// After a timeout kill, how long the pipes are drained before smemu stops waiting for a process
// that left the group and still holds them.
inline constexpr std::chrono::seconds kDrainGrace{2};

// The function an exec: or python: spec names, registered under `arn`.
Result<ProcessFunction> make_process_function(std::string_view arn, const ParsedSpec& spec,
                                              const ProcessHost& host);

// The interpreter python: functions use unless told: SMEMU_PYTHON when set and not empty, else
// /usr/bin/python3 when it is executable, else "python3" (looked up on PATH).
std::string default_python_interpreter();

}  // namespace smemu
