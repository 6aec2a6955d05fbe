package wire

// The jute encoding of each record: fields in declaration order (zookeeper.jute). Request
// records write a nil vector as null (-1), because that is what clients send and what the
// server must accept; response records write it as an empty vector, because the server must
// never send a null vector (zk-protocol.md §1.3).

const (
	nullable    = true  // request vectors: nil is null
	notNullable = false // response vectors: nil is empty
)

func (r *ConnectRequest) encodeTo(e *Encoder) {
	e.Int(r.ProtocolVersion)
	e.Long(r.LastZxidSeen)
	e.Int(r.TimeoutMs)
	e.Long(r.SessionID)
	e.Buffer(r.Passwd)
	if r.HasReadOnly {
		e.Bool(r.ReadOnly)
	}
}

// decodeFrom reads fields 1-5, then the readOnly byte if at least one byte is left, exactly as
// ZooKeeperServer.processConnectRequest does; further bytes are ignored, as there.
func (r *ConnectRequest) decodeFrom(d *Decoder) {
	r.ProtocolVersion = d.Int()
	r.LastZxidSeen = d.Long()
	r.TimeoutMs = d.Int()
	r.SessionID = d.Long()
	r.Passwd = d.Buffer()
	r.HasReadOnly = d.err == nil && d.Remaining() > 0
	r.ReadOnly = r.HasReadOnly && d.Bool()
}

func (r *ConnectResponse) encodeTo(e *Encoder) {
	e.Int(r.ProtocolVersion)
	e.Int(r.TimeoutMs)
	e.Long(r.SessionID)
	e.Buffer(r.Passwd)
	if r.HasReadOnly {
		e.Bool(r.ReadOnly)
	}
}

func (r *ConnectResponse) decodeFrom(d *Decoder) {
	r.ProtocolVersion = d.Int()
	r.TimeoutMs = d.Int()
	r.SessionID = d.Long()
	r.Passwd = d.Buffer()
	r.HasReadOnly = d.err == nil && d.Remaining() > 0
	r.ReadOnly = r.HasReadOnly && d.Bool()
}

func (r *RequestHeader) encodeTo(e *Encoder) {
	e.Int(r.Xid)
	e.Int(int32(r.Type))
}

func (r *RequestHeader) decodeFrom(d *Decoder) {
	r.Xid = d.Int()
	r.Type = OpCode(d.Int())
}

func (r *ReplyHeader) encodeTo(e *Encoder) {
	e.Int(r.Xid)
	e.Long(r.Zxid)
	e.Int(int32(r.Err))
}

func (r *ReplyHeader) decodeFrom(d *Decoder) {
	r.Xid = d.Int()
	r.Zxid = d.Long()
	r.Err = Err(d.Int())
}

func (r *CreateRequest) encodeTo(e *Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	e.acls(r.ACL, nullable)
	e.Int(int32(r.Flags))
}

func (r *CreateRequest) decodeFrom(d *Decoder) {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.ACL = d.acls(nullable)
	r.Flags = CreateMode(d.Int())
}

func (r *CreateTTLRequest) encodeTo(e *Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	e.acls(r.ACL, nullable)
	e.Int(int32(r.Flags))
	e.Long(r.TTLMs)
}

func (r *CreateTTLRequest) decodeFrom(d *Decoder) {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.ACL = d.acls(nullable)
	r.Flags = CreateMode(d.Int())
	r.TTLMs = d.Long()
}

func (r *CreateResponse) encodeTo(e *Encoder)   { e.String(r.Path) }
func (r *CreateResponse) decodeFrom(d *Decoder) { r.Path = d.String() }

func (r *Create2Response) encodeTo(e *Encoder) {
	e.String(r.Path)
	e.stat(&r.Stat)
}

func (r *Create2Response) decodeFrom(d *Decoder) {
	r.Path = d.String()
	d.stat(&r.Stat)
}

func (r *DeleteRequest) encodeTo(e *Encoder) {
	e.String(r.Path)
	e.Int(r.Version)
}

func (r *DeleteRequest) decodeFrom(d *Decoder) {
	r.Path = d.String()
	r.Version = d.Int()
}

func (r *ExistsRequest) encodeTo(e *Encoder) {
	e.String(r.Path)
	e.Bool(r.Watch)
}

func (r *ExistsRequest) decodeFrom(d *Decoder) {
	r.Path = d.String()
	r.Watch = d.Bool()
}

func (r *ExistsResponse) encodeTo(e *Encoder)   { e.stat(&r.Stat) }
func (r *ExistsResponse) decodeFrom(d *Decoder) { d.stat(&r.Stat) }

func (r *GetDataRequest) encodeTo(e *Encoder) {
	e.String(r.Path)
	e.Bool(r.Watch)
}

func (r *GetDataRequest) decodeFrom(d *Decoder) {
	r.Path = d.String()
	r.Watch = d.Bool()
}

func (r *GetDataResponse) encodeTo(e *Encoder) {
	e.Buffer(r.Data)
	e.stat(&r.Stat)
}

func (r *GetDataResponse) decodeFrom(d *Decoder) {
	r.Data = d.Buffer()
	d.stat(&r.Stat)
}

func (r *SetDataRequest) encodeTo(e *Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	e.Int(r.Version)
}

func (r *SetDataRequest) decodeFrom(d *Decoder) {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.Version = d.Int()
}

func (r *SetDataResponse) encodeTo(e *Encoder)   { e.stat(&r.Stat) }
func (r *SetDataResponse) decodeFrom(d *Decoder) { d.stat(&r.Stat) }

func (r *GetACLRequest) encodeTo(e *Encoder)   { e.String(r.Path) }
func (r *GetACLRequest) decodeFrom(d *Decoder) { r.Path = d.String() }

func (r *GetACLResponse) encodeTo(e *Encoder) {
	e.acls(r.ACL, notNullable)
	e.stat(&r.Stat)
}

func (r *GetACLResponse) decodeFrom(d *Decoder) {
	r.ACL = d.acls(notNullable)
	d.stat(&r.Stat)
}

func (r *SetACLRequest) encodeTo(e *Encoder) {
	e.String(r.Path)
	e.acls(r.ACL, nullable)
	e.Int(r.Version)
}

func (r *SetACLRequest) decodeFrom(d *Decoder) {
	r.Path = d.String()
	r.ACL = d.acls(nullable)
	r.Version = d.Int()
}

func (r *SetACLResponse) encodeTo(e *Encoder)   { e.stat(&r.Stat) }
func (r *SetACLResponse) decodeFrom(d *Decoder) { d.stat(&r.Stat) }

func (r *GetChildrenRequest) encodeTo(e *Encoder) {
	e.String(r.Path)
	e.Bool(r.Watch)
}

func (r *GetChildrenRequest) decodeFrom(d *Decoder) {
	r.Path = d.String()
	r.Watch = d.Bool()
}

func (r *GetChildrenResponse) encodeTo(e *Encoder)   { e.strings(r.Children, notNullable) }
func (r *GetChildrenResponse) decodeFrom(d *Decoder) { r.Children = d.strings(notNullable) }

func (r *GetChildren2Request) encodeTo(e *Encoder) {
	e.String(r.Path)
	e.Bool(r.Watch)
}

func (r *GetChildren2Request) decodeFrom(d *Decoder) {
	r.Path = d.String()
	r.Watch = d.Bool()
}

func (r *GetChildren2Response) encodeTo(e *Encoder) {
	e.strings(r.Children, notNullable)
	e.stat(&r.Stat)
}

func (r *GetChildren2Response) decodeFrom(d *Decoder) {
	r.Children = d.strings(notNullable)
	d.stat(&r.Stat)
}

func (r *GetAllChildrenNumberRequest) encodeTo(e *Encoder)   { e.String(r.Path) }
func (r *GetAllChildrenNumberRequest) decodeFrom(d *Decoder) { r.Path = d.String() }

func (r *GetAllChildrenNumberResponse) encodeTo(e *Encoder)   { e.Int(r.TotalNumber) }
func (r *GetAllChildrenNumberResponse) decodeFrom(d *Decoder) { r.TotalNumber = d.Int() }

func (r *GetEphemeralsRequest) encodeTo(e *Encoder)   { e.String(r.PrefixPath) }
func (r *GetEphemeralsRequest) decodeFrom(d *Decoder) { r.PrefixPath = d.String() }

func (r *GetEphemeralsResponse) encodeTo(e *Encoder)   { e.strings(r.Ephemerals, notNullable) }
func (r *GetEphemeralsResponse) decodeFrom(d *Decoder) { r.Ephemerals = d.strings(notNullable) }

func (r *SyncRequest) encodeTo(e *Encoder)   { e.String(r.Path) }
func (r *SyncRequest) decodeFrom(d *Decoder) { r.Path = d.String() }

func (r *SyncResponse) encodeTo(e *Encoder)   { e.String(r.Path) }
func (r *SyncResponse) decodeFrom(d *Decoder) { r.Path = d.String() }

func (r *CheckVersionRequest) encodeTo(e *Encoder) {
	e.String(r.Path)
	e.Int(r.Version)
}

func (r *CheckVersionRequest) decodeFrom(d *Decoder) {
	r.Path = d.String()
	r.Version = d.Int()
}

func (r *MultiHeader) encodeTo(e *Encoder) {
	e.Int(int32(r.Type))
	e.Bool(r.Done)
	e.Int(int32(r.Err))
}

func (r *MultiHeader) decodeFrom(d *Decoder) {
	r.Type = OpCode(d.Int())
	r.Done = d.Bool()
	r.Err = Err(d.Int())
}

func (r *ErrorResponse) encodeTo(e *Encoder)   { e.Int(int32(r.Err)) }
func (r *ErrorResponse) decodeFrom(d *Decoder) { r.Err = Err(d.Int()) }

func (r *AuthPacket) encodeTo(e *Encoder) {
	e.Int(r.Type)
	e.String(r.Scheme)
	e.Buffer(r.Auth)
}

func (r *AuthPacket) decodeFrom(d *Decoder) {
	r.Type = d.Int()
	r.Scheme = d.String()
	r.Auth = d.Buffer()
}

func (r *SetWatches) encodeTo(e *Encoder) {
	e.Long(r.RelativeZxid)
	e.strings(r.DataWatches, nullable)
	e.strings(r.ExistWatches, nullable)
	e.strings(r.ChildWatches, nullable)
}

func (r *SetWatches) decodeFrom(d *Decoder) {
	r.RelativeZxid = d.Long()
	r.DataWatches = d.strings(nullable)
	r.ExistWatches = d.strings(nullable)
	r.ChildWatches = d.strings(nullable)
}

func (r *SetWatches2) encodeTo(e *Encoder) {
	e.Long(r.RelativeZxid)
	e.strings(r.DataWatches, nullable)
	e.strings(r.ExistWatches, nullable)
	e.strings(r.ChildWatches, nullable)
	e.strings(r.PersistentWatches, nullable)
	e.strings(r.PersistentRecursiveWatches, nullable)
}

func (r *SetWatches2) decodeFrom(d *Decoder) {
	r.RelativeZxid = d.Long()
	r.DataWatches = d.strings(nullable)
	r.ExistWatches = d.strings(nullable)
	r.ChildWatches = d.strings(nullable)
	r.PersistentWatches = d.strings(nullable)
	r.PersistentRecursiveWatches = d.strings(nullable)
}

func (r *AddWatchRequest) encodeTo(e *Encoder) {
	e.String(r.Path)
	e.Int(int32(r.Mode))
}

func (r *AddWatchRequest) decodeFrom(d *Decoder) {
	r.Path = d.String()
	r.Mode = AddWatchMode(d.Int())
}

func (r *CheckWatchesRequest) encodeTo(e *Encoder) {
	e.String(r.Path)
	e.Int(int32(r.Type))
}

func (r *CheckWatchesRequest) decodeFrom(d *Decoder) {
	r.Path = d.String()
	r.Type = WatcherType(d.Int())
}

func (r *RemoveWatchesRequest) encodeTo(e *Encoder) {
	e.String(r.Path)
	e.Int(int32(r.Type))
}

func (r *RemoveWatchesRequest) decodeFrom(d *Decoder) {
	r.Path = d.String()
	r.Type = WatcherType(d.Int())
}

func (r *WhoAmIResponse) encodeTo(e *Encoder) {
	e.vectorHeader(len(r.ClientInfo), r.ClientInfo == nil, notNullable)
	for _, c := range r.ClientInfo {
		e.String(c.AuthScheme)
		e.String(c.User)
	}
}

func (r *WhoAmIResponse) decodeFrom(d *Decoder) {
	n := d.vectorCount("ClientInfo", 8, notNullable)
	if d.err != nil || n < 0 || !d.chargeElems(n, clientInfoBytes, "vector<ClientInfo>") {
		r.ClientInfo = nil
		return
	}
	r.ClientInfo = make([]ClientInfo, n)
	for i := range r.ClientInfo {
		r.ClientInfo[i].AuthScheme = d.String()
		r.ClientInfo[i].User = d.String()
	}
}

func (r *WatcherEvent) encodeTo(e *Encoder) {
	e.Int(int32(r.Type))
	e.Int(r.State)
	e.String(r.Path)
}

func (r *WatcherEvent) decodeFrom(d *Decoder) {
	r.Type = EventType(d.Int())
	r.State = d.Int()
	r.Path = d.String()
}

func (r *ReconfigRequest) encodeTo(e *Encoder) {
	e.String(r.JoiningServers)
	e.String(r.LeavingServers)
	e.String(r.NewMembers)
	e.Long(r.CurConfigID)
}

func (r *ReconfigRequest) decodeFrom(d *Decoder) {
	r.JoiningServers = d.String()
	r.LeavingServers = d.String()
	r.NewMembers = d.String()
	r.CurConfigID = d.Long()
}

func (r *GetSASLRequest) encodeTo(e *Encoder)   { e.Buffer(r.Token) }
func (r *GetSASLRequest) decodeFrom(d *Decoder) { r.Token = d.Buffer() }

func (r *SetSASLResponse) encodeTo(e *Encoder)   { e.Buffer(r.Token) }
func (r *SetSASLResponse) decodeFrom(d *Decoder) { r.Token = d.Buffer() }
