// SOAP framing of the fake Exchange 2013 EWS: the envelope every reply travels in (with ServerVersionInfo in
// its header, faults included), faults as HTTP 500 + s:Fault whose detail carries e:ResponseCode, and the
// per-message errors of a 200 reply (ResponseClass="Error"). Shapes follow Microsoft's EWS reference pages
// and replies captured from Exchange 2013 in exchangelib's test fixtures.
import { esc } from './xml.js';

export const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  m: 'http://schemas.microsoft.com/exchange/services/2006/messages',
  t: 'http://schemas.microsoft.com/exchange/services/2006/types',
  e: 'http://schemas.microsoft.com/exchange/services/2006/errors',
};
const XSI_XSD =
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"';

/** Exchange 2013 CU23 (15.0.1497.2); Exchange 2013 reports its schema as "V2_23", not as an API version name. */
export const SERVER_VERSION = { major: 15, minor: 0, majorBuild: 1497, minorBuild: 2, version: 'V2_23' };

/**
 * RequestServerVersion values Exchange 2013 SP1 and later accept. Newer names (Exchange2016, Exchange2019, ...)
 * are answered with ErrorInvalidServerVersion, which is how clients such as exchangelib find the version.
 */
export const API_VERSIONS = [
  'Exchange2007',
  'Exchange2007_SP1',
  'Exchange2010',
  'Exchange2010_SP1',
  'Exchange2010_SP2',
  'Exchange2013',
  'Exchange2013_SP1',
] as const;

/** Operations in Exchange 2013's EWS WSDL (services.wsdl); anything else fails schema validation. */
export const EXCHANGE_2013_OPERATIONS = new Set([
  'AddDelegate',
  'AddDistributionGroupToImList',
  'AddImContactToGroup',
  'AddImGroup',
  'AddNewImContactToGroup',
  'AddNewTelUriContactToGroup',
  'ApplyConversationAction',
  'ArchiveItem',
  'ConvertId',
  'CopyFolder',
  'CopyItem',
  'CreateAttachment',
  'CreateFolder',
  'CreateFolderPath',
  'CreateItem',
  'CreateManagedFolder',
  'CreateUserConfiguration',
  'DeleteAttachment',
  'DeleteFolder',
  'DeleteItem',
  'DeleteUserConfiguration',
  'DisableApp',
  'DisconnectPhoneCall',
  'EmptyFolder',
  'ExpandDL',
  'ExportItems',
  'FindConversation',
  'FindFolder',
  'FindItem',
  'FindMessageTrackingReport',
  'FindPeople',
  'GetAppManifests',
  'GetAppMarketplaceUrl',
  'GetAttachment',
  'GetClientAccessToken',
  'GetConversationItems',
  'GetDelegate',
  'GetDiscoverySearchConfiguration',
  'GetEvents',
  'GetFolder',
  'GetHoldOnMailboxes',
  'GetImItemList',
  'GetImItems',
  'GetInboxRules',
  'GetItem',
  'GetMailTips',
  'GetMessageTrackingReport',
  'GetNonIndexableItemDetails',
  'GetNonIndexableItemStatistics',
  'GetPasswordExpirationDate',
  'GetPersona',
  'GetPhoneCallInformation',
  'GetRoomLists',
  'GetRooms',
  'GetSearchableMailboxes',
  'GetServerTimeZones',
  'GetServiceConfiguration',
  'GetSharingFolder',
  'GetSharingMetadata',
  'GetStreamingEvents',
  'GetUserAvailability',
  'GetUserConfiguration',
  'GetUserOofSettings',
  'GetUserPhoto',
  'GetUserRetentionPolicyTags',
  'InstallApp',
  'MarkAllItemsAsRead',
  'MarkAsJunk',
  'MoveFolder',
  'MoveItem',
  'PlayOnPhone',
  'RefreshSharingFolder',
  'RemoveContactFromImList',
  'RemoveDelegate',
  'RemoveDistributionGroupFromImList',
  'RemoveImContactFromGroup',
  'RemoveImGroup',
  'ResolveNames',
  'SearchMailboxes',
  'SendItem',
  'SetHoldOnMailboxes',
  'SetImGroup',
  'SetImListMigrationCompleted',
  'SetUserOofSettings',
  'Subscribe',
  'SyncFolderHierarchy',
  'SyncFolderItems',
  'UninstallApp',
  'Unsubscribe',
  'UpdateDelegate',
  'UpdateFolder',
  'UpdateInboxRules',
  'UpdateItem',
  'UpdateUserConfiguration',
  'UploadItems',
]);

/** A request-level error: Exchange answers it with HTTP 500 and a SOAP fault. */
export class SoapFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** t:MessageXml content placed in the fault's detail, as Exchange adds for some codes. */
    readonly messageXml = '',
  ) {
    super(message);
  }
}

/** A per-message error inside a 200 reply (ResponseClass="Error"). */
export class MessageError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly messageXml = '',
  ) {
    super(message);
  }
}

export function serverVersionInfo(): string {
  const v = SERVER_VERSION;
  return (
    `<h:ServerVersionInfo MajorVersion="${v.major}" MinorVersion="${v.minor}" MajorBuildNumber="${v.majorBuild}" ` +
    `MinorBuildNumber="${v.minorBuild}" Version="${v.version}" xmlns:h="${NS.t}" xmlns="${NS.t}" ${XSI_XSD}/>`
  );
}

export function envelopeOf(bodyXml: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="${NS.soap}"><s:Header>${serverVersionInfo()}` +
    `</s:Header><s:Body ${XSI_XSD}>${bodyXml}</s:Body></s:Envelope>`
  );
}

export function faultOf(f: SoapFault): string {
  const messageXml = f.messageXml ? `<t:MessageXml xmlns:t="${NS.t}">${f.messageXml}</t:MessageXml>` : '';
  return (
    `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="${NS.soap}"><s:Header>${serverVersionInfo()}` +
    `</s:Header><s:Body><s:Fault><faultcode xmlns:a="${NS.t}">a:${f.code}</faultcode>` +
    `<faultstring xml:lang="en-US">${esc(f.message)}</faultstring><detail>` +
    `<e:ResponseCode xmlns:e="${NS.e}">${f.code}</e:ResponseCode>` +
    `<e:Message xmlns:e="${NS.e}">${esc(f.message)}</e:Message>${messageXml}` +
    '</detail></s:Fault></s:Body></s:Envelope>'
  );
}

/** The ResponseMessage element of an operation that failed for one of its items. */
export function errorMessage(
  op: string,
  err: MessageError,
  responseClass: 'Error' | 'Warning' = 'Error',
): string {
  const messageXml = err.messageXml ? `<m:MessageXml>${err.messageXml}</m:MessageXml>` : '';
  return (
    `<m:${op}ResponseMessage ResponseClass="${responseClass}"><m:MessageText>${esc(err.message)}</m:MessageText>` +
    `<m:ResponseCode>${err.code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>${messageXml}` +
    `</m:${op}ResponseMessage>`
  );
}

export function successMessage(op: string, contentXml: string): string {
  return (
    `<m:${op}ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>${contentXml}` +
    `</m:${op}ResponseMessage>`
  );
}

export function responseOf(op: string, messages: string[]): string {
  return (
    `<m:${op}Response xmlns:m="${NS.m}" xmlns:t="${NS.t}"><m:ResponseMessages>${messages.join('')}` +
    `</m:ResponseMessages></m:${op}Response>`
  );
}

/** Exchange's fault for a request that does not match its schema, with the position it reports. */
export function schemaFault(violation: string): SoapFault {
  return new SoapFault(
    'ErrorSchemaValidation',
    'The request failed schema validation.',
    `<t:LineNumber>1</t:LineNumber><t:LinePosition>1</t:LinePosition><t:Violation>${esc(violation)}</t:Violation>`,
  );
}

/** Refuses a RequestServerVersion that Exchange 2013 does not know, as Exchange does (HTTP 500). */
export function checkRequestServerVersion(requested: string | undefined): void {
  if (requested !== undefined && !(API_VERSIONS as readonly string[]).includes(requested)) {
    throw new SoapFault('ErrorInvalidServerVersion', 'The specified server version is invalid.');
  }
}
