// courier: AWS application integration (SQS, SNS filter policies and EventBridge patterns,
// Step Functions) inside one process. The umbrella header: includes every public header.
//
// Example:
//   #include <courier/courier.h>
//   courier::testing::Simulation sim;
//   courier::Hub hub(sim.environment());
//   auto queue = courier::Sqs(hub).CreateQueue("orders").value();
#ifndef COURIER_COURIER_H_
#define COURIER_COURIER_H_

#include "courier/asl_validation.h"
#include "courier/blob_store.h"
#include "courier/clock.h"
#include "courier/environment.h"
#include "courier/execution.h"
#include "courier/executor.h"
#include "courier/fifo_queue.h"
#include "courier/function.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/lambda.h"
#include "courier/message.h"
#include "courier/pattern.h"
#include "courier/queue.h"
#include "courier/queue_attributes.h"
#include "courier/queue_requests.h"
#include "courier/resource.h"
#include "courier/service.h"
#include "courier/sns.h"
#include "courier/sqs.h"
#include "courier/sqs_queue.h"
#include "courier/state_machine.h"
#include "courier/status.h"
#include "courier/step_functions.h"
#include "courier/storage.h"
#include "courier/testing/simulation.h"
#include "courier/topic.h"

#endif  // COURIER_COURIER_H_
