#include "saga/kafka/topic_admin.h"

#include <librdkafka/rdkafka.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace choreo::kafka {

absl::Status EnsureTopics(KafkaProducer& producer, const std::vector<std::string>& topics,
                          int partitions, absl::Duration timeout) {
  if (topics.empty()) return absl::OkStatus();
  char error[512];
  std::vector<rd_kafka_NewTopic_t*> requests;
  auto free_requests = [&requests] {
    for (rd_kafka_NewTopic_t* request : requests) rd_kafka_NewTopic_destroy(request);
  };
  for (const std::string& topic : topics) {
    rd_kafka_NewTopic_t* request =
        rd_kafka_NewTopic_new(topic.c_str(), partitions, -1, error, sizeof(error));
    if (request == nullptr) {
      free_requests();
      return absl::InvalidArgumentError(absl::StrCat("topic ", topic, ": ", error));
    }
    requests.push_back(request);
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(producer.handle());
  rd_kafka_AdminOptions_t* options =
      rd_kafka_AdminOptions_new(producer.handle(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(
      options, static_cast<int>(absl::ToInt64Milliseconds(timeout)), error, sizeof(error));
  rd_kafka_CreateTopics(producer.handle(), requests.data(), requests.size(), options, queue);
  rd_kafka_event_t* event =
      rd_kafka_queue_poll(queue, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  absl::Status status;
  if (event == nullptr) {
    status = absl::UnavailableError("CreateTopics: no answer from the broker in time");
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = absl::UnavailableError(
        absl::StrCat("CreateTopics: ", rd_kafka_event_error_string(event)));
  } else {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
    for (size_t i = 0; i < count && status.ok(); ++i) {
      const rd_kafka_resp_err_t code = rd_kafka_topic_result_error(results[i]);
      if (code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        status = absl::InternalError(absl::StrCat("CreateTopics ",
                                                  rd_kafka_topic_result_name(results[i]), ": ",
                                                  rd_kafka_err2str(code)));
      }
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  free_requests();
  return status;
}

}  // namespace choreo::kafka
