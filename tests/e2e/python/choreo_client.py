"""A client of choreo's gateway in another language: Python with grpcio, its stubs generated
from proto/ by grpcio-tools when it starts (nothing generated is kept). It registers a user,
logs in, deposits, places one order and reads the balance back, then prints one JSON line:

  {"order_id": ..., "status": "ORDER_STATUS_PAID", "total_minor_units": ...,
   "balance_before": ..., "balance_after": ...}

  python choreo_client.py --gateway HOST:PORT --proto-dir proto --user NAME --password P

Run by tests/e2e/operator_tools_test.cc with tests/tools/python/.venv's interpreter; a failed
call exits 1 with the gRPC status on stderr.
"""

import argparse
import glob
import json
import os
import sys
import tempfile

import grpc
from grpc_tools import protoc


def generate_stubs(proto_dir, out_dir):
    """Compiles every .proto of proto/ into Python modules in out_dir."""
    well_known = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    files = sorted(
        os.path.relpath(path, proto_dir)
        for path in glob.glob(os.path.join(proto_dir, "**", "*.proto"), recursive=True)
    )
    args = ["protoc", "-I" + proto_dir, "-I" + well_known,
            "--python_out=" + out_dir, "--grpc_python_out=" + out_dir] + files
    if protoc.main(args) != 0:
        sys.exit("protoc failed on " + proto_dir)
    sys.path.insert(0, out_dir)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--proto-dir", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="choreo-python-stubs-") as out_dir:
        generate_stubs(args.proto_dir, out_dir)
        from choreo.common.v1 import event_pb2
        from choreo.gateway.v1 import gateway_pb2, gateway_pb2_grpc
        from choreo.orders.v1 import order_pb2

        channel = grpc.insecure_channel(args.gateway)
        accounts = gateway_pb2_grpc.AccountServiceStub(channel)
        orders = gateway_pb2_grpc.OrderServiceStub(channel)
        try:
            accounts.Register(gateway_pb2.RegisterRequest(
                username=args.user, password=args.password, email=args.user + "@example.com"),
                timeout=30)
            token = accounts.Login(gateway_pb2.LoginRequest(
                username=args.user, password=args.password), timeout=30).access_token
            auth = [("authorization", "Bearer " + token)]
            accounts.Deposit(gateway_pb2.DepositRequest(
                request_id="python-funding",
                amount=event_pb2.Money(minor_units=5000, currency="USD")),
                metadata=auth, timeout=30)
            before = accounts.GetBalance(gateway_pb2.GetBalanceRequest(), metadata=auth,
                                         timeout=30).balance.minor_units
            order = orders.CreateOrder(gateway_pb2.CreateOrderRequest(
                request_id="python-order-1",
                items=[order_pb2.OrderItem(sku="PEN-004", quantity=2)],
                delivery_address=order_pb2.DeliveryAddress(
                    recipient="Py Thon", line1="1 Snake Way", city="Amsterdam", country="NL"),
                payment_method=order_pb2.PAYMENT_METHOD_ACCOUNT_BALANCE),
                metadata=auth, timeout=30)
            after = accounts.GetBalance(gateway_pb2.GetBalanceRequest(), metadata=auth,
                                        timeout=30).balance.minor_units
        except grpc.RpcError as error:
            sys.exit("choreo_client: %s: %s" % (error.code().name, error.details()))
        print(json.dumps({
            "order_id": order.order_id,
            "status": order_pb2.OrderStatus.Name(order.status),
            "total_minor_units": order.total.minor_units,
            "balance_before": before,
            "balance_after": after,
        }))


if __name__ == "__main__":
    main()
