import Foundation
import Hummingbird
import NIOCore
import RetentionMetrics
import RetentionStorage

/// An error answer: a status and `{"error": "..."}` (plus `code` and `orderId` when there are some).
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    public var code: String?
    public var orderID: String?

    public init(_ status: HTTPResponse.Status, _ message: String, code: String? = nil, orderID: String? = nil) {
        self.status = status
        self.message = message
        self.code = code
        self.orderID = orderID
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, message) }

    struct Body: Encodable {
        var error: String
        var code: String?
        var orderId: String?
    }

    func response() -> Response {
        let body = Body(error: message, code: code, orderId: orderID)
        // Leave absent fields out rather than writing nulls: `{"error": "..."}` is the documented minimum.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(body)) ?? Data(#"{"error":"internal error"}"#.utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error a route throws into a JSON answer: ``APIError`` as given, Hummingbird's own errors (404,
/// 405, 413) with their status, store and metric errors by code, anything else as a logged 500 that names no
/// internals.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            return Self.translate(error, context: context).response()
        }
    }

    static func translate(_ error: any Error, context: Context) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as StoreError:
            switch error.code {
            case .conflictingDuplicate:
                return APIError(.conflict, error.description, code: error.code.rawValue, orderID: error.orderID)
            case .invalidOrder, .mixedCurrency:
                return APIError(
                    .unprocessableContent, error.description, code: error.code.rawValue, orderID: error.orderID)
            case .invalidArgument:
                return APIError(.badRequest, error.description, code: error.code.rawValue)
            default:
                context.logger.error("store error: \(error)")
                return APIError(
                    .internalServerError, "the order store failed: \(error.code)", code: error.code.rawValue)
            }
        case let error as MetricError:
            return APIError(.unprocessableContent, error.description, code: error.code.rawValue)
        case let error as LedgerError:
            context.logger.error("ledger error: \(error)")
            return APIError(.conflict, error.description, code: error.code.rawValue, orderID: error.orderID)
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, "the request body is larger than the server accepts")
        case let error as HTTPError:
            let message: String
            switch error.status {
            case .notFound: message = "no such route"
            case .methodNotAllowed: message = "method not allowed on this route"
            default: message = error.body ?? error.status.reasonPhrase
            }
            return APIError(error.status, message)
        case let error as any HTTPResponseError:
            return APIError(error.status, error.status.reasonPhrase)
        default:
            context.logger.error("unexpected error: \(String(reflecting: error))")
            return APIError(.internalServerError, "internal error")
        }
    }
}
