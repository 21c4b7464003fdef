"""`EC2LatentWorker`: a latent worker whose instance is an Amazon EC2 instance (on-demand
or spot), through boto3 (an optional dependency: `pip install boto3`).

The AMI (given, or the newest matching `valid_ami_owners`/`valid_ami_location_regex`) must
start buildbot-worker at boot (e.g. from `user_data`) and connect as this worker. On first
use the key pair and the classic security group are created if missing. boto3 blocks, so
every AWS call runs in a thread; waiting for the instance (or the spot request) polls every
`_poll_resolution` seconds in the reactor and gives up after `missing_timeout` (4.3 waits
without limit). AWS errors become a failed substantiation naming the AWS error code.

Deliberate difference: 4.3 talks to AWS from the constructor (so `buildbot checkconfig`
needs AWS access); here the key pair, security group, image and elastic IP are looked up
when the first instance starts.
"""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from twisted.internet import threads
from twisted.logger import Logger

from buildbot import config
from buildbot.interfaces import LatentWorkerFailedToSubstantiate
from buildbot.util import asyncSleep
from buildbot.worker.latent import TypeSettingsLatentWorker

try:
    import boto3
    import botocore
    import botocore.session
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # optional: the config error below names the package
    boto3 = None

log = Logger()
T = TypeVar("T")

PENDING = "pending"
RUNNING = "running"
SHUTTINGDOWN = "shutting-down"
TERMINATED = "terminated"
SPOT_REQUEST_PENDING_STATES = ["pending-evaluation", "pending-fulfillment"]
FULFILLED = "fulfilled"
PRICE_TOO_LOW = "price-too-low"


def _without_none(opts: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in opts.items() if v is not None}


def _default_aws_id_file() -> str | None:
    """~/.ec2/aws_id if it exists (the deprecated credentials file)."""
    candidate = os.path.join(os.environ.get("HOME", ""), ".ec2", "aws_id")
    return candidate if os.path.exists(candidate) else None


def _read_aws_id_file(path: str) -> tuple[str, str]:
    """(access key id, secret key): the file's first two lines."""
    log.warn("WARNING: EC2LatentWorker is using deprecated aws_id file")
    with open(path, encoding="utf-8") as f:
        lines = [f.readline().strip(), f.readline().strip()]
    return lines[0], lines[1]


def _aws_errors() -> tuple[type[BaseException], ...]:
    return (ClientError, BotoCoreError) if boto3 is not None else ()


class EC2LatentWorker(TypeSettingsLatentWorker):
    """`EC2LatentWorker(name, password, instance_type, ami=None, ...)` with 4.3's
    arguments (see docs/workers.md)."""

    instance: Any = None
    image: Any = None
    _poll_resolution: float = 5  # seconds; tests make it short

    def _check_type(self, name: str, password: Any,  # type: ignore[override]  # its own settings
                    instance_type: str, ami: str | None = None,
                    valid_ami_owners: Any = None, valid_ami_location_regex: Any = None,
                    elastic_ip: str | None = None, identifier: str | None = None,
                    secret_identifier: str | None = None,
                    aws_id_file_path: str | None = None, user_data: Any = None,
                    region: str | None = None, keypair_name: str | None = None,
                    security_name: str | None = None, spot_instance: bool = False,
                    max_spot_price: float | None = 1.6, volumes: Any = None,
                    placement: str | None = None, price_multiplier: float | None = 1.2,
                    tags: dict[str, str] | None = None,
                    product_description: str = "Linux/UNIX", subnet_id: str | None = None,
                    security_group_ids: list[str] | None = None,
                    instance_profile_name: str | None = None, block_device_map: Any = None,
                    session: Any = None, **kwargs: Any) -> None:
        if boto3 is None:
            config.error("The python module 'boto3' is needed to use a EC2LatentWorker")
        if keypair_name is None:
            config.error("EC2LatentWorker: 'keypair_name' parameter must be specified")
        if security_name is None and not subnet_id:
            config.error("EC2LatentWorker: 'security_name' parameter must be specified")
        self._check_common(name, password, **kwargs)
        # 4.3 raises these (not config errors) from its constructor
        if security_name and subnet_id:
            raise ValueError("security_name (EC2 classic security groups) is not supported "
                             "in a VPC.  Use security_group_ids instead.")
        by_search = valid_ami_owners is not None or valid_ami_location_regex is not None
        if (ami is not None) == by_search:
            raise ValueError("You must provide either a specific ami, or one or both of "
                             "valid_ami_location_regex and valid_ami_owners")
        if valid_ami_owners is not None and not isinstance(valid_ami_owners, int):
            for owner in valid_ami_owners:
                if not isinstance(owner, int):
                    raise ValueError("valid_ami_owners should be int or iterable of ints",
                                     owner)
        if valid_ami_location_regex is not None and \
                not isinstance(valid_ami_location_regex, str):
            raise ValueError("valid_ami_location_regex should be a string")
        if spot_instance and price_multiplier is None and max_spot_price is None:
            raise ValueError("You must provide either one, or both, of price_multiplier or "
                             "max_spot_price")
        if identifier is None and secret_identifier is not None or \
                identifier is not None and secret_identifier is None:
            raise AssertionError("supply both or neither of identifier, secret_identifier")
        if identifier is not None and aws_id_file_path is not None:
            raise AssertionError("if you supply the identifier and secret_identifier, do not "
                                 "specify the aws_id_file_path")
        if block_device_map is not None and not isinstance(block_device_map, list):
            config.error("EC2LatentWorker: 'block_device_map' must be a list")
        if boto3 is not None and session is None and region is not None and \
                region not in boto3.Session().get_available_regions("ec2"):
            raise ValueError("The specified region does not exist: " + region)

    async def _configure_type(self, name: str, password: Any,  # type: ignore[override]  # its own settings
                              instance_type: str, ami: str | None = None,
                              valid_ami_owners: Any = None,
                              valid_ami_location_regex: Any = None,
                              elastic_ip: str | None = None, identifier: str | None = None,
                              secret_identifier: str | None = None,
                              aws_id_file_path: str | None = None, user_data: Any = None,
                              region: str | None = None, keypair_name: str | None = None,
                              security_name: str | None = None, spot_instance: bool = False,
                              max_spot_price: float | None = 1.6, volumes: Any = None,
                              placement: str | None = None,
                              price_multiplier: float | None = 1.2,
                              tags: dict[str, str] | None = None,
                              product_description: str = "Linux/UNIX",
                              subnet_id: str | None = None,
                              security_group_ids: list[str] | None = None,
                              instance_profile_name: str | None = None,
                              block_device_map: Any = None, session: Any = None,
                              **kwargs: Any) -> None:
        await self._configure_common(name, password, **kwargs)
        self.instance_type = instance_type
        self.ami = ami
        if isinstance(valid_ami_owners, int):
            valid_ami_owners = (valid_ami_owners,)
        self.valid_ami_owners = [str(o) for o in valid_ami_owners] if valid_ami_owners \
            else None
        self.valid_ami_location_regex = re.compile(valid_ami_location_regex) \
            if valid_ami_location_regex is not None else None
        self.elastic_ip_address = elastic_ip
        self.elastic_ip: Any = None
        self.user_data = user_data
        self.keypair_name = keypair_name
        self.security_name = security_name
        self.classic_security_groups = [security_name] if security_name else None
        self.spot_instance = spot_instance
        self.max_spot_price = max_spot_price
        self.volumes = volumes or []
        self.placement = f"{region}{placement}" if None not in (region, placement) else None
        self.price_multiplier = price_multiplier
        self.tags = tags or {}
        self.product_description = product_description
        self.subnet_id = subnet_id
        self.security_group_ids = security_group_ids
        self.instance_profile_name = instance_profile_name
        self.block_device_map = self.create_block_device_mapping(block_device_map) \
            if block_device_map else None
        self.session = session or self._make_session(region, identifier, secret_identifier,
                                                     aws_id_file_path)
        self.ec2 = self.session.resource("ec2")
        self.ec2_client = self.session.client("ec2")
        self.image = self.ec2.Image(ami) if ami is not None else None
        self._prepared = False

    @staticmethod
    def _make_session(region: str | None, identifier: str | None,
                      secret_identifier: str | None, aws_id_file_path: str | None) -> Any:
        if identifier is None:
            path = aws_id_file_path or _default_aws_id_file()
            if path:
                identifier, secret_identifier = _read_aws_id_file(path)
        if region is None:
            # boto2 used us-east-1 when nothing was configured; 4.3 keeps that
            region = botocore.session.get_session().get_config_variable("region") or \
                "us-east-1"
        return boto3.Session(region_name=region, aws_access_key_id=identifier,
                             aws_secret_access_key=secret_identifier)

    def create_block_device_mapping(self, mapping_definitions: list[dict[str, Any]]
                                    ) -> list[dict[str, Any]]:
        """EBS volumes go away with the instance unless the mapping says otherwise."""
        for definition in mapping_definitions:
            if definition.get("Ebs"):
                definition["Ebs"].setdefault("DeleteOnTermination", True)
        return mapping_definitions

    @property
    def dns(self) -> str | None:
        return self.instance.public_dns_name if self.instance is not None else None

    # -- AWS calls (blocking: run in a thread) ------------------------------------------
    async def _aws(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await threads.deferToThread(fn, *args, **kwargs)

    def _thd_prepare(self) -> None:
        """Key pair, security group, image and elastic IP, once per configuration."""
        try:
            self.ec2.KeyPair(self.keypair_name).load()
        except ClientError as e:
            if "InvalidKeyPair.NotFound" not in str(e):
                if "AuthFailure" in str(e):
                    log.warn("POSSIBLE CAUSES OF ERROR:\n  Did you supply your AWS "
                             "credentials?\n  Did you sign up for EC2?\n  Did you put a "
                             "credit card number in your AWS account?\nPlease doublecheck "
                             "before reporting a problem.\n")
                raise
            # the private key is not kept: instances are reached through the worker
            self.ec2.create_key_pair(KeyName=self.keypair_name)
        if self.security_name:
            try:
                self.ec2_client.describe_security_groups(GroupNames=[self.security_name])
            except ClientError as e:
                if "InvalidGroup.NotFound" not in str(e):
                    raise
                self.security_group = self.ec2.create_security_group(
                    GroupName=self.security_name,
                    Description="Authorization to access the buildbot instance.")
        self.get_image()
        if self.elastic_ip_address is not None and self.elastic_ip is None:
            found = self.ec2.meta.client.describe_addresses(
                PublicIps=[self.elastic_ip_address])["Addresses"]
            if not found:
                raise ValueError("Could not find EIP for IP: " + self.elastic_ip_address)
            self.elastic_ip = self.ec2.VpcAddress(found[0]["AllocationId"])
        self._prepared = True

    def get_image(self) -> Any:
        """The given AMI, or the last of the available images matching the owners and
        location regex, ordered by the regex's first group (as a number if every match's
        is one), then location and id."""
        if self.image is not None:
            return self.image
        images = self.ec2.images.all()
        if self.valid_ami_owners:
            images = images.filter(Owners=self.valid_ami_owners)
        candidates: list[tuple[tuple[Any, ...], Any]]
        if self.valid_ami_location_regex is None:
            candidates = [((), img) for img in images]
        else:
            matched = []
            for img in images:
                if img.state != "available":
                    continue
                m = self.valid_ami_location_regex.match(img.image_location or "")
                if m:
                    matched.append((m.group(1) if m.re.groups else None, img))
            keys = [k for k, _ in matched]
            if keys and all(k is not None and k.isdigit() for k in keys):
                candidates = [((int(str(k)),), img) for k, img in matched]
            elif keys and all(k is not None for k in keys):
                candidates = [((k,), img) for k, img in matched]
            else:
                candidates = [((), img) for _, img in matched]
        if not candidates:
            raise ValueError("no available images match constraints")
        candidates.sort(key=lambda c: (*c[0], c[1].image_location or "", c[1].id))
        log.info("sorted images (last is chosen): {images}", images=", ".join(
            f"{img.id} ({img.image_location})" for _, img in candidates))
        return candidates[-1][1]

    def _launch_options(self, image_id: str) -> dict[str, Any]:
        return _without_none({
            "ImageId": image_id, "KeyName": self.keypair_name,
            "SecurityGroups": self.classic_security_groups,
            "InstanceType": self.instance_type, "UserData": self.user_data,
            "Placement": _without_none({"AvailabilityZone": self.placement}),
            "SubnetId": self.subnet_id, "SecurityGroupIds": self.security_group_ids,
            "IamInstanceProfile": _without_none({"Name": self.instance_profile_name}),
            "BlockDeviceMappings": self.block_device_map,
        })

    def _thd_bid_price(self) -> float:
        """The mean spot price of the last day for our instance type, times
        price_multiplier (0.02 without history), capped at max_spot_price."""
        if self.price_multiplier is None:
            return float(self.max_spot_price or 0)
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 86400))
        history = self.ec2.meta.client.describe_spot_price_history(
            **_without_none({"StartTime": since,
                             "ProductDescriptions": [self.product_description],
                             "AvailabilityZone": self.placement}))["SpotPriceHistory"]
        prices = [float(p["SpotPrice"]) for p in history
                  if p["InstanceType"] == self.instance_type]
        bid = sum(prices) / len(prices) * self.price_multiplier if prices else 0.02
        if self.max_spot_price is not None:
            bid = min(bid, self.max_spot_price)
        return bid

    # -- the latent worker ---------------------------------------------------------------
    async def start_instance(self, build: Any) -> list[Any]:
        if self.instance is not None:
            raise ValueError("instance active")
        try:
            if not self._prepared:
                await self._aws(self._thd_prepare)
            image = await self._aws(self.get_image)
            if self.spot_instance:
                await self._request_spot_instance(image)
            else:
                created = await self._aws(self.ec2.create_instances,
                                          **self._launch_options(image.id),
                                          MinCount=1, MaxCount=1)
                self.instance = created[0]
            instance_id, start_time = await self._wait_for_instance()
        except _aws_errors() as e:
            raise LatentWorkerFailedToSubstantiate(
                self.name, f"AWS error: {e}") from e
        return [instance_id, image.id, start_time]

    async def _poll(self, what: str, done: Callable[[], Any]) -> float:
        """Wait (polling every _poll_resolution s) until `done()` (run in a thread) is
        true; the seconds waited. Fails after missing_timeout."""
        waited = 0.0
        while not await self._aws(done):
            if self.missing_timeout and waited >= self.missing_timeout:
                raise LatentWorkerFailedToSubstantiate(
                    self.name, f"gave up waiting for {what} after {waited:.0f} s")
            await asyncSleep(self._poll_resolution, reactor=self.clock)
            waited += self._poll_resolution
        return waited

    async def _wait_for_instance(self) -> tuple[str, str]:
        instance = self.instance
        log.info("{cls} {name} waiting for instance {id} to start",
                 cls=type(self).__name__, name=self.workername, id=instance.id)

        def started() -> bool:
            instance.reload()
            return bool(instance.state["Name"] != PENDING)

        waited = int(await self._poll(f"instance {instance.id} to start", started))
        if instance.state["Name"] != RUNNING:
            self.failed_to_start(instance.id, instance.state["Name"])
        self.properties.setProperty("instance", instance.id, "Worker")
        self.output = (await self._aws(instance.console_output)).get("Output")
        minutes, seconds = divmod(waited, 60)
        log.info("{cls} {name} instance {id} started on {dns} in about {m} minutes {s} "
                 "seconds", cls=type(self).__name__, name=self.workername, id=instance.id,
                 dns=self.dns, m=minutes, s=seconds)
        await self._aws(self._thd_after_start, instance)
        return instance.id, f"{minutes // 60:02d}:{minutes % 60:02d}:{seconds:02d}"

    def _thd_after_start(self, instance: Any) -> None:
        if self.elastic_ip is not None:
            self.elastic_ip.associate(InstanceId=instance.id)
        for volume_id, device in self.volumes:
            self.ec2.Volume(volume_id).attach_to_instance(InstanceId=instance.id,
                                                          Device=device)
            log.info("Attaching EBS volume {v} to {d}.", v=volume_id, d=device)
        if self.tags:
            instance.create_tags(Tags=[{"Key": k, "Value": v} for k, v in self.tags.items()])

    async def _request_spot_instance(self, image: Any) -> None:
        bid = await self._aws(self._thd_bid_price)
        log.info("{cls} {name} requesting spot instance with price {bid:0.4f}",
                 cls=type(self).__name__, name=self.workername, bid=bid)
        spec = self._launch_options(image.id)
        # 4.3 asks for the configured ami (None when found by search): the chosen image
        # is what it means. Unlike run_instances, this call wants the user data in base64
        # (4.3 sends it as is, which EC2 refuses)
        if isinstance(spec.get("UserData"), (str, bytes)):
            raw = spec["UserData"]
            spec["UserData"] = base64.b64encode(
                raw.encode() if isinstance(raw, str) else raw).decode()
        answer = await self._aws(self.ec2.meta.client.request_spot_instances,
                                 SpotPrice=str(bid), LaunchSpecification=spec)
        request_id = answer["SpotInstanceRequests"][0]["SpotInstanceRequestId"]
        request: dict[str, Any] = {}

        def decided() -> bool:
            try:
                found = self.ec2.meta.client.describe_spot_instance_requests(
                    SpotInstanceRequestIds=[request_id])["SpotInstanceRequests"]
            except ClientError as e:
                # a new request may not be visible for a second
                if "InvalidSpotInstanceRequestID.NotFound" in str(e):
                    return False
                raise
            request.update(found[0])
            return found[0]["Status"]["Code"] not in SPOT_REQUEST_PENDING_STATES

        await self._poll(f"spot request {request_id}", decided)
        status = request["Status"]["Code"]
        if status != FULFILLED:
            await self._aws(self.ec2.meta.client.cancel_spot_instance_requests,
                            SpotInstanceRequestIds=[request_id])
            why = "spot price too low" if status == PRICE_TOO_LOW else f"status {status}"
            log.info("{cls} {name} spot request {id} not fulfilled: {why}",
                     cls=type(self).__name__, name=self.workername, id=request_id, why=why)
            raise LatentWorkerFailedToSubstantiate(request_id, status)
        self.instance = self.ec2.Instance(request["InstanceId"])

    async def stop_instance(self, fast: bool = False) -> None:
        instance, self.instance = self.instance, None
        self.output = None
        if instance is None:
            return  # the start failed before an instance existed

        def terminate() -> None:
            if self.elastic_ip is not None and self.elastic_ip.association is not None:
                self.elastic_ip.association.delete()
            instance.reload()
            if instance.state["Name"] not in (SHUTTINGDOWN, TERMINATED):
                instance.terminate()
                log.info("{cls} {name} terminating instance {id}", cls=type(self).__name__,
                         name=self.workername, id=instance.id)

        goal = (SHUTTINGDOWN, TERMINATED) if fast else (TERMINATED,)

        def ended() -> bool:
            instance.reload()
            return instance.state["Name"] in goal

        await self._aws(terminate)
        waited = await self._poll(f"instance {instance.id} to end", ended)
        log.info("{cls} {name} instance {id} {goal} after about {s:.0f} seconds",
                 cls=type(self).__name__, name=self.workername, id=instance.id, goal=goal,
                 s=waited)
