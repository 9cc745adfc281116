package agent

import "github.com/cowdisk/cowdisk/internal/provisioner"

func statsJSON(st *provisioner.Stats) Stats {
	return Stats{Downloads: st.Downloads.Load(), BytesDownloaded: st.BytesDownloaded.Load(), BytesToDownload: st.BytesToDownload.Load(),
		Conversions: st.Conversions.Load(), BytesWritten: st.BytesWritten.Load(),
		BytesToConvert: st.BytesToConvert.Load(), BytesConverted: st.BytesConverted.Load()}
}
