/**
 * The carrier's failures as the API reports them: `502 carrier_error` with the carrier's own reason when it refused,
 * and a plain statement when it could not be reached or did not answer. Nothing of the request (the app's token,
 * a number) is in the text: CarrierError's reason is the carrier's bounded message, never our request.
 */
import { AppError } from "../errors.js";
import { CarrierError, CarrierOutcomeUnknown, CarrierUnreachable } from "../carrier/carrier.js";

export function carrierFailure(err: unknown, what: string): unknown {
  if (err instanceof CarrierError) {
    return new AppError("carrier_error", `${what}: the carrier answered ${err.status} (${err.reason}).`, { cause: err });
  }
  if (err instanceof CarrierUnreachable) {
    return new AppError("carrier_error", `${what}: the carrier could not be reached (${err.why}).`, { cause: err });
  }
  if (err instanceof CarrierOutcomeUnknown) {
    return new AppError("carrier_error", `${what}: the carrier did not answer in time (${err.why}).`, { cause: err });
  }
  return err;
}
